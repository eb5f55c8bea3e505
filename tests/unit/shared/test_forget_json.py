"""An endpoint lets its parsed JSON body go once validated: FastAPI's own reference to the
parsed body is emptied, the model the endpoint was given keeps every value (exact numbers too)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Body, FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel

from shared.http import ExactJSONRoute, forget_json


class Line(BaseModel):
    sku: str
    quantity: Decimal


class Upload(BaseModel):
    lines: list[Line]


def test_the_parsed_body_is_emptied_and_the_model_keeps_its_values() -> None:
    seen: dict[str, Any] = {}
    router = APIRouter(route_class=ExactJSONRoute)

    @router.post("/uploads")
    async def upload(request: Request, body: Annotated[Upload, Body()]) -> dict[str, str]:
        parsed = await request.json()  # the object FastAPI validated the model from
        seen["before"] = len(parsed["lines"])
        forget_json(request)
        seen["after"] = dict(parsed)
        seen["model"] = body
        return {"ok": "yes"}

    app = FastAPI()
    app.include_router(router)
    lines = [{"sku": f"A{n}", "quantity": 0.1} for n in range(3)]
    answer = TestClient(app).post("/uploads", json={"lines": lines})

    assert answer.status_code == 200
    assert seen["before"] == 3
    assert seen["after"] == {}
    assert [line.quantity for line in seen["model"].lines] == [Decimal("0.1")] * 3


def test_a_request_without_a_parsed_body_is_left_as_it_is() -> None:
    request = Request({"type": "http", "method": "GET", "path": "/", "query_string": b""})
    forget_json(request)
    assert not hasattr(request, "_json")
