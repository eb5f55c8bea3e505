"""The terminal API: pairing, the device's inbox (with long poll), downloads and results."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.gateway import directory
from services.gateway.auth import (
    BEARER_SECURITY,
    DeviceDep,
    authenticate_device,
    bearer_token,
    device_holding,
    record_sighting,
    refuse_unless_active,
)
from services.gateway.directory import barcodes_view
from services.gateway.inbox import (
    Polled,
    acknowledge_copies,
    acknowledge_copy,
    document_of,
    own_copy,
    poll,
    record_result,
    result_of,
)
from services.gateway.inbox_summaries import HeldAnswer, News
from services.gateway.inbox_watch import InboxWatch
from services.gateway.parts import gateway_parts
from services.gateway.records import DeviceCopy, InboxCopy, Json, PolledCopy, ResultRecord
from services.gateway.wire import ensure_portable
from shared.contracts import registry_rpc as registry
from shared.contracts.absent import NullMeansAbsent
from shared.contracts.copies import CopyState
from shared.contracts.documents import FactLine
from shared.contracts.registry_rpc import Registry
from shared.contracts.results import PROGRESSED_COPIES_MAX
from shared.errors import Refusal
from shared.http import (
    ExactJSONRoute,
    HttpCaller,
    documented_query,
    error_body,
    language_of,
    query_from,
)
from shared.marks import refuse_repeated
from shared.messaging import tracing
from shared.metrics import INBOX_POLLS, LONG_POLLS_WAITING
from shared.request_summary import SUMMARIES, quiet
from shared.security import hash_token
from shared.service import Runtime, RuntimeDep, current_runtime

# The endpoints are declared alike (a path, a summary, the device, then one use case and its
# answer), as are the LAN writer's terminal.py and admin.py: each calls its own use case.
router = APIRouter(prefix="/api/v1/terminal", tags=["terminal"], route_class=ExactJSONRoute)


# The pairing body: the registry's ``device.pair`` parameters, ``null`` meaning absent.
class PairRequest(registry.Pair, NullMeansAbsent):
    pass


class ResultRequest(NullMeansAbsent):
    model_config = ConfigDict(extra="forbid")

    result_id: str = Field(min_length=1, max_length=200)
    final: bool
    lines: list[FactLine] = Field(default_factory=list, max_length=100_000)


# Each state's word, looked up once (a poll shows every open copy's).
_WORDS = {state: state.terminal_word for state in CopyState}


def _summary(row: InboxCopy | PolledCopy, language: str) -> dict[str, Any]:
    header = row.header
    return {
        "delivery_id": row.id,
        "document_id": row.document_id,
        "version": row.version,
        "accounting_type": header["accounting_type"],
        "terminal_type": row.settings["terminal_type"],
        "number": header["number"],
        "date": header["date"],
        "lines": row.lines_count,
        "state": _WORDS[row.state],
        # Why the latest result was sent back (e.g. quantity control); None when it was not.
        "refusal": _refusal_view(_refusal_shown(row), language),
    }


def _refusal_shown(row: InboxCopy | PolledCopy) -> Json | None:
    """The refusal a terminal is shown: only while the copy is in progress (a copy finished
    again, or withdrawn, shows none)."""
    return row.last_refusal if row.state is CopyState.IN_PROGRESS else None


def _refusal_view(refusal: Json | None, language: str) -> dict[str, Any] | None:
    if refusal is None:
        return None
    return {
        "result_id": refusal["result_id"],
        **error_body(refusal["code"], language, refusal["params"]),
    }


@router.post(
    "/pair", summary="Join a base with its connection code; returns the PIN and a credential"
)
async def pair(body: PairRequest, rt: RuntimeDep) -> dict[str, Any]:
    ensure_portable(body)
    paired = await Registry(HttpCaller(rt.rpc)).pair_device(body)
    # The credential must work at once, before the registry's event arrives; paired anew, a
    # device's earlier credential is dead: no instance may still hold it.
    device = await directory.keep_paired(rt, paired)
    record_sighting(rt, device)
    return {
        "device_id": device.id,
        "tenant": device.tenant,
        "pin": device.pin,
        "mode": device.mode,
        "credential": paired.credential,
    }


@router.get("/me", summary="This device's PIN and settings, as shown in the terminal's side menu")
async def me(rt: RuntimeDep, device: DeviceDep) -> dict[str, Any]:
    tenant = await directory.tenant_of(rt, device)
    return {
        "device_id": device.id,
        "tenant": device.tenant,
        "pin": device.pin,
        "name": device.name,
        "model": device.model,
        "mode": device.mode,
        # How the base's weight codes and marking codes are to be read (parseScan's settings).
        "barcodes": barcodes_view(tenant),
    }


_MAX_WAIT = 60  # the longest long poll a terminal may ask for, in seconds


class InboxQuery(BaseModel):
    wait: float = Field(default=0, ge=0, le=_MAX_WAIT, description="long-poll: seconds to wait")
    known: int = Field(default=0, ge=0, description="how many documents the terminal already has")


INBOX_PATH = "/api/v1/terminal/inbox"


def _plain_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 9


def _wait_and_known(params: dict[str, str]) -> tuple[float, int]:
    """The poll's ``wait`` and ``known`` as :class:`InboxQuery` reads them. Whole numbers in
    bounds (what terminals send) are read here, at a fraction of the model's cost; anything
    else is the model's to read or refuse, with its errors."""
    wait, known = params.get("wait", "0"), params.get("known", "0")
    if _plain_number(wait) and _plain_number(known) and int(wait) <= _MAX_WAIT:
        return float(wait), int(known)
    query = query_from(InboxQuery, params)
    return query.wait, query.known


# The poll is the hottest call of all: it is answered in front of FastAPI, by a plain ASGI
# route (``inbox_route.py``) that calls :func:`answer_poll` as this endpoint does. The endpoint
# stays for the API's documentation (from the same model) and answers alike if reached.
@router.get(
    "/inbox",
    summary="Documents waiting for this device; waits up to `wait` seconds for news",
    openapi_extra={**documented_query(InboxQuery), **BEARER_SECURITY},
)
async def inbox(request: Request) -> Response:
    """Answers at once when there is news: a document not yet acknowledged, a withdrawal, or
    a number of documents other than ``known``; otherwise waits for news up to ``wait``."""
    body = await answer_poll(
        await current_runtime(request),
        request.headers.get("authorization"),
        dict(request.query_params),
        language_of(request),
        request.scope,
    )
    return Response(body, media_type="application/json")


async def answer_poll(
    rt: Runtime,
    authorization: str | None,
    params: dict[str, str],
    language: str,
    scope: MutableMapping[str, Any],
) -> bytes:
    """The poll's answer as JSON, for the request whose ``Authorization`` header, query
    parameters and language are given; a refusal or bad parameters are raised."""
    try:
        return await _poll(rt, authorization, params, language, scope)
    except Refusal:
        _counted("refused")
        raise


# Each outcome's counter, looked up once: the labels lookup costs more than the count.
_POLL_COUNTERS = {outcome: INBOX_POLLS.labels(outcome) for outcome in ("news", "empty", "refused")}


def _counted(outcome: str) -> None:
    _POLL_COUNTERS[outcome].inc()
    SUMMARIES.count("poll", outcome)


# answer_poll's parameters again: answer_poll only counts a refusal, wherever _poll raises it.
async def _poll(
    rt: Runtime,
    authorization: str | None,
    params: dict[str, str],
    language: str,
    scope: MutableMapping[str, Any],
) -> bytes:
    credential = bearer_token(authorization)
    device = await authenticate_device(rt, credential)
    wait, known = _wait_and_known(params)
    deadline = time.monotonic() + min(wait, rt.settings.long_poll_max_seconds)
    polls = gateway_parts(rt).polls
    # Watched from before the first read: news stored while it reads is not missed.
    with polls.watching(device.id) as ticket:
        while True:
            inbox, body = await _answer(polls, device.id, language, lambda: poll(rt, device.id))
            news = inbox.for_terminal(known)
            left = deadline - time.monotonic()
            if news or left <= 0 or polls.releasing:
                _counted("news" if news else "empty")
                if not news:  # in the periodic summary instead of a line of its own
                    quiet(scope)
                return body
            del body  # the waiting poll holds nothing of the inbox itself
            # No store read while it waits: news of the inbox wakes it (inbox_watch.py).
            with LONG_POLLS_WAITING.track_inprogress():
                await ticket.wait(left)
            # Blocked, retired or replaced while it waited: the poll ends now, saying so.
            await refuse_unless_active(rt, await device_holding(rt, hash_token(credential)))


async def _answer(
    polls: InboxWatch, device_id: str, language: str, read: Callable[[], Awaitable[Polled]]
) -> tuple[News, bytes]:
    """The device's poll answer, what makes news in it and its JSON: the one held for it while
    its inbox has not changed (inbox_summaries.py), else ``read`` from the store and held."""
    held = polls.held_answer(device_id)
    if held is not None and held.answers_in(language):
        return held.news, held.body()
    summaries = polls.summaries
    read_from = summaries.reading()  # before the read: a change meanwhile is not held
    polled = await read()
    body, answer = _answer_of(polled, language)
    if answer.small_enough:
        summaries.keep(device_id, read_from, answer)
    return polled.news, body


# The answer of an empty inbox, held once for every device that has one.
_NOTHING_BODY = orjson.dumps({"documents": [], "withdrawn": []})
_NOTHING = HeldAnswer.of(Polled([]).news, _NOTHING_BODY, None)


def _answer_of(polled: Polled, language: str) -> tuple[bytes, HeldAnswer]:
    """The answer's JSON, and the same as it is held."""
    if not polled.open and not polled.withdrawn:
        return _NOTHING_BODY, _NOTHING
    body = orjson.dumps(
        {
            "documents": [_summary(r, language) for r in polled.open],
            "withdrawn": [
                {"delivery_id": r.id, "reason": r.withdrawn_reason} for r in polled.withdrawn
            ],
        }
    )
    # Only a refusal's message is in the terminal's language.
    spoken = any(_refusal_shown(r) for r in polled.open)
    return body, HeldAnswer.of(polled.news, body, language if spoken else None)


@router.get(
    "/documents/{delivery_id}",
    summary="Download one document with its version",
)
async def download(
    delivery_id: str, request: Request, rt: RuntimeDep, device: DeviceDep
) -> Response:
    row = await own_copy(rt, device, delivery_id)
    # The terminal's call carries no trace: it continues the one its document came with.
    with tracing.continuing("terminal download", row.trace):
        document = await document_of(rt, row)
        summary = _summary(row, language_of(request))
        answer = {**summary, "settings": row.settings, "document": document}
        return Response(orjson.dumps(answer), media_type="application/json")


ACK_PATH = "/api/v1/terminal/documents/{delivery_id}/ack"


@router.post(
    "/documents/{delivery_id}/ack",
    summary="Confirm the document arrived (or a withdrawal was seen)",
)
async def acknowledge(delivery_id: str, rt: RuntimeDep, device: DeviceDep) -> dict[str, Any]:
    return await acknowledged(rt, device, delivery_id)


async def answer_ack(rt: Runtime, authorization: str | None, delivery_id: str) -> bytes:
    """The acknowledgement's answer as JSON, for the request whose ``Authorization`` header
    is given (inbox_route.py answers it in front of FastAPI); a refusal is raised."""
    device = await authenticate_device(rt, bearer_token(authorization))
    return orjson.dumps(await acknowledged(rt, device, delivery_id))


async def acknowledged(rt: Runtime, device: DeviceCopy, delivery_id: str) -> dict[str, Any]:
    row = await own_copy(rt, device, delivery_id)
    with tracing.continuing("terminal acknowledge", row.trace):
        state = await acknowledge_copy(rt, row, device)
        return {"delivery_id": delivery_id, "state": state.terminal_word}


ACK_BATCH_PATH = "/api/v1/terminal/documents/ack"


class AckBatchRequest(BaseModel):
    """Several delivered documents acknowledged at once; an id given twice is answered once."""

    model_config = ConfigDict(extra="forbid")

    delivery_ids: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=PROGRESSED_COPIES_MAX
    )


# Answered in front of FastAPI too (inbox_route.py), by :func:`answer_acks`; the endpoint stays
# for the API's documentation and answers every body the plain route does not take.
@router.post(
    "/documents/ack",
    summary="Confirm several documents arrived (or their withdrawals were seen), each answered",
)
async def acknowledge_together(
    body: AckBatchRequest, request: Request, rt: RuntimeDep, device: DeviceDep
) -> dict[str, Any]:
    return await acknowledged_together(rt, device, body, language_of(request))


async def answer_acks(
    rt: Runtime, authorization: str | None, body: AckBatchRequest, language: str
) -> bytes:
    """The batched acknowledgement's answer as JSON, for the request whose ``Authorization``
    header is given (inbox_route.py answers it in front of FastAPI); a refusal is raised."""
    device = await authenticate_device(rt, bearer_token(authorization))
    return orjson.dumps(await acknowledged_together(rt, device, body, language))


async def acknowledged_together(
    rt: Runtime, device: DeviceCopy, body: AckBatchRequest, language: str
) -> dict[str, Any]:
    """Each id's answer in the order given (each id once): what its single acknowledgement
    answers, a refusal (another device's copy, none) as its code and message."""
    answers = await acknowledge_copies(rt, device, list(dict.fromkeys(body.delivery_ids)))
    return {
        "answers": [
            {"delivery_id": delivery_id, "state": answer.terminal_word}
            if isinstance(answer, CopyState)
            else {"delivery_id": delivery_id, **error_body(answer.code, language, answer.params)}
            for delivery_id, answer in answers.items()
        ]
    }


@router.post(
    "/documents/{delivery_id}/results",
    summary="Send partial progress or the final result; the same result_id again applies once",
)
async def submit_result(
    delivery_id: str, body: ResultRequest, request: Request, rt: RuntimeDep, device: DeviceDep
) -> dict[str, Any]:
    ensure_portable(body)
    refuse_repeated(body.lines)
    row = await own_copy(rt, device, delivery_id)
    record, duplicate = await record_result(
        rt, row, device, body.result_id, final=body.final, lines=body.lines
    )
    return result_answer(record, language_of(request), duplicate=duplicate)


@router.get(
    "/documents/{delivery_id}/results/{result_id}",
    summary="What became of a result: received, or refused with the code and message",
)
async def result_status(
    delivery_id: str, result_id: str, request: Request, rt: RuntimeDep, device: DeviceDep
) -> dict[str, Any]:
    record = await result_of(rt, device, delivery_id, result_id)
    return result_answer(record, language_of(request), duplicate=False)


def result_answer(record: ResultRecord, language: str, *, duplicate: bool) -> dict[str, Any]:
    """``received``: taken and not refused (so far); ``refused``: send a corrected result."""
    return {
        "delivery_id": record.delivery_id,
        "result_id": record.result_id,
        "final": record.final,
        "accepted": True,
        "duplicate": duplicate,
        "status": record.status,
        "refusal": _refusal_view(record.refusal, language),
    }
