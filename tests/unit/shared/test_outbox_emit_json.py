"""A payload emitted as its JSON is routed by its type, so a kind routed by its content is
refused before anything is written."""

from __future__ import annotations

from typing import Any

import pytest

from shared.contracts.catalog import CatalogChanged
from shared.contracts.results import ResultRefused
from shared.outbox import OUTBOX, Tx, stored_envelope


class _Recorder:
    """Records what a transaction would write (pure logic: no store involved)."""

    def __init__(self) -> None:
        self.inserted: list[tuple[str, dict[str, Any]]] = []

    async def insert(self, collection: str, doc: dict[str, Any]) -> None:
        self.inserted.append((collection, doc))


async def test_a_payload_given_as_json_goes_out_under_its_type() -> None:
    db = _Recorder()
    body = {"store": "", "first": 1, "last": 1, "products": [], "warehouses": [], "cells": []}
    envelope = await Tx(db).emit_json(CatalogChanged, {**body, "deleted": []}, "t")  # type: ignore[arg-type]
    [(collection, row)] = db.inserted
    assert collection == OUTBOX.name
    assert row["routing_key"] == "catalog.changed"
    assert stored_envelope(row)["type"] == "catalog.changed" and envelope.tenant == "t"
    assert stored_envelope(row)["payload"]["first"] == 1


async def test_a_kind_routed_by_its_content_is_refused() -> None:
    db = _Recorder()
    with pytest.raises(TypeError):
        await Tx(db).emit_json(ResultRefused, {}, "t")  # type: ignore[arg-type]
    assert db.inserted == []
