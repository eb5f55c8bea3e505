"""Deciding upload requests as a use case on a real SQLite store of routing's own: no broker,
routing's copy of the directory given as plain facts, events read from the outbox. The rules
themselves are table-tested in test_rules.py; here: what a decision writes and emits."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from services.routing import repository as repo
from services.routing.processes import BusinessProcess
from services.routing.rules import DeviceInfo, DirectoryView, Lookups
from services.routing.upload_decisions import UploadDecider
from shared.contracts import Envelope, wrap
from shared.contracts.documents import Document, DocumentHeader, DocumentLine, Target
from shared.contracts.uploads import DocumentRouted, UploadRequested
from shared.messaging.consumer import PermanentFailure
from shared.outbox import APPLIED, OUTBOX, AlreadyApplied, UnitOfWork, stored_envelope
from shared.storage import DuplicateKeyError, Store
from tests.support.stores import service_store

TENANT = "t1"
PICKING = BusinessProcess(
    id="picking",
    name="Подбор",
    source_type="Заказ клиента",
    terminal_type="Подбор",
    result_type="Реализация",
)
IVANOV = Target(kind="user", value="ivanov")
TERMINAL = DeviceInfo(
    id="dev-1", pin="5546", name="EDA50", status="active", mode="online", tenant=TENANT
)
TO_TERMINAL = Target(kind="device", value=TERMINAL.id)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with service_store(tmp_path, "routing", repo.COLLECTIONS) as s:
        await repo.save_process(s, repo.ALL_TENANTS, PICKING)
        yield s


@pytest.fixture
def asked() -> list[Lookups]:
    return []


@pytest.fixture
def decider(store: Store, asked: list[Lookups]) -> UploadDecider:
    async def directory(tenant: str, lookups: Lookups, requested_at: datetime) -> DirectoryView:
        asked.append(lookups)
        return DirectoryView(device=TERMINAL if lookups.device_id == TERMINAL.id else None)

    return UploadDecider(store, UnitOfWork(store, None), directory, max_documents=10, max_lines=100)


def _request(request_id: str, *document_ids: str, **changes: Any) -> UploadRequested:
    documents = [
        Document(
            header=DocumentHeader(accounting_type="Заказ клиента", id=doc_id, number="17"),
            lines=[DocumentLine(line_no=1, product_id="p-1", planned_qty=1)],
        )
        for doc_id in document_ids or ("d-1",)
    ]
    fields: dict[str, Any] = {
        "request_id": request_id,
        "process": "picking",
        "channel": "lan",
        "target": IVANOV,
        "documents": documents,
    }
    return UploadRequested.model_validate({**fields, **changes})


async def _decide(decider: UploadDecider, request: UploadRequested, tenant: str = TENANT) -> None:
    await decider.handle(wrap(request, tenant), request)


async def _outbox(store: Store, kind: str) -> list[dict[str, Any]]:
    """The outbox rows of the messages of ``kind`` emitted so far, in order."""
    rows = sorted(await store.find(OUTBOX.name), key=lambda r: r["seq"])
    return [r for r in rows if stored_envelope(r)["type"] == kind]


async def _emitted(store: Store, kind: str) -> list[dict[str, Any]]:
    return [stored_envelope(r)["payload"] for r in await _outbox(store, kind)]


async def _squatted(store: Store, request: UploadRequested) -> tuple[Envelope, dict[str, Any]]:
    """The request's message, and a step stored already with the id its first step gets: its
    transaction will end in DuplicateKeyError though the request was not decided."""
    envelope = wrap(request, TENANT)
    squatter = {"id": f"{envelope.id}:1", "tenant": TENANT, "step": "requested"}
    await store.insert(repo.JOURNEY.name, squatter)
    return envelope, squatter


async def _copies(store: Store) -> list[repo.CopyRecord]:
    return await repo.copies_of(store, repo.document_key(TENANT, "d-1"))


async def test_an_accepted_request_stores_the_document_and_its_copy(
    decider: UploadDecider, store: Store
) -> None:
    await _decide(decider, _request("r-1"))
    [decided] = await _emitted(store, "upload.decided")
    assert decided["outcome"] == "accepted" and len(decided["deliveries"]) == 1
    [routed] = await _emitted(store, "document.routed")
    [copy] = await _copies(store)
    [sent] = routed["copies"]
    assert sent["delivery_id"] == copy.id == decided["deliveries"][0]["delivery_id"]
    assert routed["decided"] is None  # a LAN upload's answer goes by itself
    assert (copy.target, copy.state, copy.version) == (IVANOV, "routed", 1)
    master = await repo.document(store, repo.document_key(TENANT, "d-1"))
    assert master is not None and (master.state, master.process_snapshot) == ("queued", PICKING)
    steps = await repo.steps_of(store, repo.document_key(TENANT, "d-1"))
    assert [s.step for s in steps] == ["requested", "decided", "routed"]


async def test_an_internet_upload_through_the_gateway_is_one_message_with_its_decision(
    decider: UploadDecider, store: Store
) -> None:
    request = _request(
        "r-1", "d-1", "d-2", channel="internet", target=TO_TERMINAL, answer_with_copies=True
    )
    await _decide(decider, request)
    assert await _emitted(store, "upload.decided") == []
    [routed] = await _emitted(store, "document.routed")
    assert [d["header"]["id"] for d in routed["documents"]] == ["d-1", "d-2"]
    assert [c["document_id"] for c in routed["copies"]] == ["d-1", "d-2"]
    decided = routed["decided"]
    assert decided["outcome"] == "accepted"
    assert [d["delivery_id"] for d in decided["deliveries"]] == [
        c["delivery_id"] for c in routed["copies"]
    ]
    # Asked again: the decision is announced again by itself, nothing is routed twice.
    await _decide(decider, request)
    [again] = await _emitted(store, "upload.decided")
    assert again == decided
    assert len(await _emitted(store, "document.routed")) == 1


async def test_the_routed_message_is_what_its_model_dumps_and_each_body_its_document(
    decider: UploadDecider, store: Store
) -> None:
    # The documents are dumped once, for their body rows and the message: both as the models
    # would have them.
    request = _request(
        "r-1", "d-1", "d-2", channel="internet", target=TO_TERMINAL, answer_with_copies=True
    )
    await _decide(decider, request)
    [routed] = await _emitted(store, "document.routed")
    assert DocumentRouted.model_validate(routed).model_dump(mode="json") == routed
    assert routed["documents"] == [d.model_dump(mode="json") for d in request.documents]
    for document in request.documents:
        key = repo.document_key(TENANT, document.header.id)
        assert await repo.body_of(store, key) == document
        master = await repo.document(store, key)
        assert master is not None and master.process_snapshot == PICKING


async def test_an_adapters_internet_upload_is_answered_by_upload_decided(
    decider: UploadDecider, store: Store
) -> None:
    await _decide(decider, _request("r-1", channel="internet", target=TO_TERMINAL))
    [routed] = await _emitted(store, "document.routed")
    [decided] = await _emitted(store, "upload.decided")
    assert routed["decided"] is None and decided["outcome"] == "accepted"


async def _keys(store: Store, kind: str) -> list[str]:
    """The routing keys of the messages of ``kind`` emitted so far, in order."""
    return [r["routing_key"] for r in await _outbox(store, kind)]


async def test_copies_carrying_a_decision_go_under_the_news_key_once_a_while_a_device(
    store: Store, decider: UploadDecider
) -> None:
    for request_id, document_id in (("r-1", "d-1"), ("r-2", "d-2")):
        request = _request(
            request_id, document_id, channel="internet", target=TO_TERMINAL, answer_with_copies=True
        )
        await _decide(decider, request)
    # The known-devices list hears of the terminal's first use, not of the next one at once.
    assert await _keys(store, "document.routed") == [
        "document.routed.internet.device_news",
        "document.routed.internet",
    ]
    # An adapter's upload: the decision goes by itself, under its one key, whatever the news.
    await _decide(decider, _request("r-3", "d-3", channel="internet", target=TO_TERMINAL))
    assert (await _keys(store, "document.routed"))[-1] == "document.routed.internet"
    assert await _keys(store, "upload.decided") == ["upload.decided"]


async def test_a_decision_rolled_back_tells_the_list_nothing(
    decider: UploadDecider, store: Store
) -> None:
    def to_terminal(request_id: str) -> UploadRequested:
        return _request(request_id, channel="internet", target=TO_TERMINAL, answer_with_copies=True)

    # The transaction ends in DuplicateKeyError once the copies were announced as news, and is
    # rolled back.
    request = to_terminal("r-1")
    envelope, _ = await _squatted(store, request)
    with pytest.raises(DuplicateKeyError):
        await decider.handle(envelope, request)
    assert await _keys(store, "document.routed") == []
    # The next decision for the terminal is still the news the list never heard.
    await _decide(decider, to_terminal("r-2"))
    assert await _keys(store, "document.routed") == ["document.routed.internet.device_news"]


async def test_a_refusal_is_one_message_whoever_asked(decider: UploadDecider, store: Store) -> None:
    unknown = Target(kind="device", value="nobody")
    request = _request("r-1", channel="internet", target=unknown, answer_with_copies=True)
    await _decide(decider, request)
    [decided] = await _emitted(store, "upload.decided")
    assert decided["outcome"] == "refused"
    assert await _emitted(store, "document.routed") == []


async def test_the_same_request_again_announces_the_same_decision_and_delivers_nothing(
    decider: UploadDecider, store: Store, asked: list[Lookups]
) -> None:
    await _decide(decider, _request("r-1"))
    await _decide(decider, _request("r-1"))
    first, again = await _emitted(store, "upload.decided")
    assert again == first
    assert len(await _emitted(store, "document.routed")) == 1
    assert len(asked) == 1  # decided once: the directory is not asked again


async def test_the_same_message_delivered_again_is_applied_already_and_adds_nothing(
    decider: UploadDecider, store: Store
) -> None:
    request = _request("r-1")
    envelope = wrap(request, TENANT)
    await decider.handle(envelope, request)
    outbox = await store.find(OUTBOX.name)
    steps = await repo.steps_of(store, repo.document_key(TENANT, "d-1"))
    with pytest.raises(AlreadyApplied):
        await decider.handle(envelope, request)
    assert await store.find(OUTBOX.name) == outbox
    assert await repo.steps_of(store, repo.document_key(TENANT, "d-1")) == steps
    # The request's record names the message: no applied-message row of its own.
    record = await repo.request(store, TENANT, "r-1")
    assert record is not None and record.message == envelope.id
    assert await store.get(APPLIED.name, envelope.id) is None


async def test_uploading_again_replaces_a_copy_nobody_took(
    decider: UploadDecider, store: Store
) -> None:
    await _decide(decider, _request("r-1"))
    await _decide(decider, _request("r-2"))
    old, new = sorted(await _copies(store), key=lambda c: c.version)
    assert (old.state, old.withdrawn_reason) == ("withdrawn", "replaced")
    assert (new.state, new.version) == ("routed", 2)
    [withdrawn] = await _emitted(store, "document.withdrawn")
    assert withdrawn == {"delivery_id": old.id, "channel": "lan", "reason": "replaced"}


async def test_a_document_in_work_is_replaced_only_when_recalled(
    decider: UploadDecider, store: Store
) -> None:
    await _decide(decider, _request("r-1"))
    [taken] = await _copies(store)
    await repo.record_copy_step(store, taken.id, "in_progress", "ivanov")
    await _decide(decider, _request("r-2"))
    refused = (await _emitted(store, "upload.decided"))[-1]
    assert (refused["outcome"], refused["code"]) == ("refused", "document_in_work")
    assert len(await _copies(store)) == 1  # all or nothing: no new version started
    await _decide(decider, _request("r-3", recall=True))
    recalled = await repo.copy_of(store, taken.id)
    assert recalled is not None and recalled.withdrawn_reason == "recalled"


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (_request("r-1", process="no-such-process"), "process_not_found"),
        (_request("r-1", "d-1", "d-1"), "document_repeated"),
    ],
)
async def test_a_refused_request_stores_no_document_but_its_journey(
    decider: UploadDecider, store: Store, request_: UploadRequested, code: str
) -> None:
    await _decide(decider, request_)
    [decided] = await _emitted(store, "upload.decided")
    assert (decided["outcome"], decided["code"]) == ("refused", code)
    assert await _emitted(store, "document.routed") == []
    assert await repo.document(store, repo.document_key(TENANT, "d-1")) is None
    steps = await repo.steps_of(store, repo.document_key(TENANT, "d-1"))
    assert [s.step for s in steps] == ["requested", "refused"]
    record = await repo.request(store, TENANT, "r-1")
    assert record is not None and record.decision is not None and record.decision.code == code


async def test_a_request_without_a_tenant_or_over_the_limits_is_parked(
    decider: UploadDecider, store: Store
) -> None:
    with pytest.raises(PermanentFailure):
        await _decide(decider, _request("r-1"), tenant="")
    too_many = _request("r-2", *(f"d-{n}" for n in range(11)))
    with pytest.raises(PermanentFailure):
        await _decide(decider, too_many)
    assert await repo.request(store, TENANT, "r-2") is None


async def test_a_request_of_many_documents_leaves_each_its_records_and_steps(
    store: Store,
) -> None:
    async def directory(tenant: str, lookups: Lookups, requested_at: datetime) -> DirectoryView:
        return DirectoryView()

    decider = UploadDecider(
        store, UnitOfWork(store, None), directory, max_documents=50, max_lines=1
    )
    ids = [f"d-{n}" for n in range(50)]
    started_ms = time.time_ns() // 1_000_000
    for request_id in ("r-1", "r-2"):  # the second uploads each document again
        await _decide(decider, _request(request_id, *ids))
    ended_ms = time.time_ns() // 1_000_000
    await _decide(decider, _request("r-2", *ids))  # asked again: nothing new
    for document_id in ids:
        key = repo.document_key(TENANT, document_id)
        master = await repo.document(store, key)
        assert master is not None and (master.version, master.request_id) == (2, "r-2")
        body = await repo.body_of(store, key)
        assert body is not None and body.header.id == document_id
        old, new = sorted(await repo.copies_of(store, key), key=lambda c: c.version)
        assert (old.state, old.withdrawn_reason) == ("withdrawn", "replaced")
        assert (new.state, new.version, new.target) == ("routed", 2, IVANOV)
        for copy in (old, new):  # 32 hex digits, the first 12 the time it was made, in ms
            assert re.fullmatch("[0-9a-f]{32}", copy.id)
            assert started_ms <= int(copy.id[:12], 16) <= ended_ms
        steps = [s.step for s in await repo.steps_of(store, key)]
        first, again = (
            ["requested", "decided", "routed"],
            ["requested", "decided", "withdrawn", "routed"],
        )
        assert steps == first + again
    assert len(await _emitted(store, "document.routed")) == 2
    assert len(await _emitted(store, "document.withdrawn")) == 50


async def test_a_row_colliding_in_the_decision_is_raised_for_a_retry_and_decides_nothing(
    decider: UploadDecider, store: Store
) -> None:
    # Acking the message would lose the upload.
    request = _request("r-1")
    envelope, squatter = await _squatted(store, request)
    with pytest.raises(DuplicateKeyError):
        await decider.handle(envelope, request)
    assert await repo.request(store, TENANT, "r-1") is None
    assert await store.find(OUTBOX.name) == []
    assert await _copies(store) == []
    assert await store.get(repo.JOURNEY.name, squatter["id"]) == squatter  # not written over


async def test_a_message_the_previous_release_decided_is_applied_already_when_delivered_again(
    decider: UploadDecider, store: Store
) -> None:
    request = _request("r-1")
    envelope = wrap(request, TENANT)
    await decider.handle(envelope, request)
    # As the previous release left it: the request's record names no message, the message
    # has its applied-message row.
    key = repo.request_key(TENANT, "r-1")
    record = await store.get(repo.REQUESTS.name, key)
    assert record is not None
    del record["message"]
    await store.put(repo.REQUESTS.name, record)
    applied = {"id": envelope.id, "type": envelope.type, "at": "2026-12-01T10:00:00+00:00"}
    await store.insert(APPLIED.name, applied)
    outbox = await store.find(OUTBOX.name)
    copies = await _copies(store)

    with pytest.raises(AlreadyApplied):
        await decider.handle(envelope, request)
    assert await store.find(OUTBOX.name) == outbox
    assert await _copies(store) == copies


async def test_two_instances_given_the_same_message_at_once_decide_it_once(
    tmp_path: Path,
) -> None:
    # Two routing instances on one database, both past the check for an earlier decision
    # before either commits: the request's record lets one decision through.
    async with (
        service_store(tmp_path, "routing", repo.COLLECTIONS) as first,
        service_store(tmp_path, "routing", repo.COLLECTIONS) as second,
    ):
        await repo.save_process(first, repo.ALL_TENANTS, PICKING)
        both_asking = asyncio.Event()
        asking = 0

        async def directory(tenant: str, lookups: Lookups, requested_at: datetime) -> DirectoryView:
            nonlocal asking
            asking += 1
            if asking == 2:
                both_asking.set()
            await both_asking.wait()
            return DirectoryView()

        deciders = [
            UploadDecider(s, UnitOfWork(s, None), directory, max_documents=10, max_lines=100)
            for s in (first, second)
        ]
        request = _request("r-1")
        envelope = wrap(request, TENANT)
        outcomes = await asyncio.gather(
            *(d.handle(envelope, request) for d in deciders), return_exceptions=True
        )

        assert sorted(type(o).__name__ for o in outcomes) == ["AlreadyApplied", "NoneType"]
        assert len(await _copies(first)) == 1
        assert len(await _emitted(first, "document.routed")) == 1
        assert len(await _emitted(first, "upload.decided")) == 1


async def test_a_process_not_found_is_refused_with_the_one_its_name_comes_closest_to(
    decider: UploadDecider, store: Store
) -> None:
    await _decide(decider, _request("r-1", process=PICKING.id[:-1] + "x"))  # one letter off
    await _decide(decider, _request("r-2", process="something-else-entirely"))
    typo, unlike = await _emitted(store, "upload.decided")
    assert (typo["code"], typo["params"]) == (
        "process_not_found",
        {"process": PICKING.id[:-1] + "x", "nearest": PICKING.id},
    )
    assert unlike["params"]["nearest"] == ""
