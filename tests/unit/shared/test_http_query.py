"""Query parameters read inside an endpoint: the same validation and OpenAPI as declared ones."""

from __future__ import annotations

import pytest
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.requests import Request

from shared.http import documented_query, query_of, query_params


class Paging(BaseModel):
    size: int = Field(default=10, ge=1, le=100, description="rows per page")
    after: str


def _request(query: bytes) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": query})


def test_values_are_read_and_converted_and_the_last_repeat_wins() -> None:
    paging = query_of(Paging, _request(b"after=x&size=5&size=7&other=1"))
    assert (paging.size, paging.after) == (7, "x")


def test_bad_values_are_refused_under_their_query_names() -> None:
    with pytest.raises(RequestValidationError) as refused:
        query_of(Paging, _request(b"size=0"))
    assert sorted(tuple(e["loc"]) for e in refused.value.errors()) == [
        ("query", "after"),
        ("query", "size"),
    ]


def test_the_openapi_parameters_come_from_the_model() -> None:
    documented = documented_query(Paging)
    size, after = documented["parameters"]
    assert size == {
        "name": "size",
        "in": "query",
        "required": False,
        "schema": {"default": 10, "maximum": 100, "minimum": 1, "title": "Size", "type": "integer"},
        "description": "rows per page",
    }
    assert (after["name"], after["required"]) == ("after", True)
    assert "422" in documented["responses"]


@pytest.mark.parametrize(
    "query",
    [
        b"",
        b"wait=30&known=3",
        b"wait=0&wait=5",
        b"known&&wait=0=1&=3&known=",
        b"a=%D0%B4%D0%B0&b=x+y&c=%zz",
        b"name=\xe9t\xe9",
        b"&&",
    ],
)
def test_a_raw_query_is_read_as_starlette_reads_it(query: bytes) -> None:
    starlette = dict(_request(query).query_params)
    assert query_params(query) == starlette
