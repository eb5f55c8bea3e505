"""shared.messaging on a real RabbitMQ: retries, parking, RPC, mandatory publishes, outbox."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from aiormq.exceptions import ChannelNotFoundEntity
from prometheus_client import REGISTRY

from shared.contracts import Envelope, encode, wrap
from shared.contracts.registry_rpc import ByDevice, Registry
from shared.contracts.results import DocumentLoaded, ResultSubmitted
from shared.contracts.rpc import Call, Params, Result, RpcMethod, RpcService, one
from shared.errors import Refusal
from shared.messaging.broker import Broker, BrokerUnavailable
from shared.messaging.consumer import Consumer, PermanentFailure
from shared.messaging.parking import list_parked, replay
from shared.messaging.rpc import RpcClient, RpcHandlers, RpcServer, RpcTimeout
from shared.messaging.topology import REGISTRY_RPC, ROUTING_WORK
from shared.outbox import COLLECTIONS, Tx, UnitOfWork, stored_envelope
from shared.outbox_relay import OutboxRelay
from shared.settings import Settings
from shared.storage import Store, TransactionConflict, open_store, retrying
from tests.support.event_loop import busy_for, counting_turns
from tests.support.waiting import eventually


async def _consume(broker: Broker, settings: Settings, handler: Any) -> Consumer:
    consumer = Consumer(
        broker, ROUTING_WORK, {DocumentLoaded: handler}, settings.retry_delays_ms, "t"
    )
    await consumer.start()
    return consumer


async def test_a_failing_handler_is_retried_with_delay_then_succeeds(
    broker: Broker, settings: Settings
) -> None:
    attempts: list[str] = []
    applied: list[str] = []

    async def flaky(envelope: Envelope, payload: DocumentLoaded) -> None:
        attempts.append(envelope.id)
        if len(attempts) < 3:
            raise ConnectionError("store briefly away")
        applied.append(payload.document_id)

    consumer = await _consume(broker, settings, flaky)
    sent = await broker.publish(DocumentLoaded(document_id="d1"), "t")
    await eventually(lambda: asyncio.sleep(0, applied), what="applied after retries")
    assert applied == ["d1"]
    assert attempts == [sent.id] * 3
    await consumer.stop()


async def test_retries_are_bounded_then_the_message_is_parked_with_its_reason(
    broker: Broker, settings: Settings
) -> None:
    attempts: list[str] = []

    async def broken(envelope: Envelope, payload: DocumentLoaded) -> None:
        attempts.append(envelope.id)
        raise ValueError("cannot apply")

    consumer = await _consume(broker, settings, broken)
    sent = await broker.publish(DocumentLoaded(document_id="d2"), "t")
    parked = await eventually(lambda: list_parked(broker, ROUTING_WORK), what="parked")
    assert [p.message_id for p in parked] == [sent.id]
    assert "failed after 4 attempts" in parked[0].reason
    assert "cannot apply" in parked[0].reason
    assert len(attempts) == 1 + len(settings.retry_delays_ms)
    await consumer.stop()


async def test_a_permanent_failure_is_parked_at_once_and_can_be_replayed(
    broker: Broker, settings: Settings
) -> None:
    seen: list[str] = []

    async def picky(envelope: Envelope, payload: DocumentLoaded) -> None:
        seen.append(payload.document_id)
        if len(seen) == 1:
            raise PermanentFailure("no such document")

    consumer = await _consume(broker, settings, picky)
    sent = await broker.publish(DocumentLoaded(document_id="d3"), "t")
    parked = await eventually(lambda: list_parked(broker, ROUTING_WORK), what="parked")
    assert parked[0].reason == "no such document"
    assert seen == ["d3"]

    assert await replay(broker, ROUTING_WORK, sent.id) == 1
    await eventually(lambda: asyncio.sleep(0, len(seen) == 2), what="replayed and applied")
    assert await list_parked(broker, ROUTING_WORK) == []
    await consumer.stop()


async def test_replay_of_an_unknown_id_changes_nothing(broker: Broker, settings: Settings) -> None:
    seen: list[str] = []

    async def refusing(envelope: Envelope, payload: DocumentLoaded) -> None:
        seen.append(payload.document_id)
        raise PermanentFailure("kept parked")

    consumer = await _consume(broker, settings, refusing)
    sent = await broker.publish(DocumentLoaded(document_id="d4"), "t")
    before = await eventually(lambda: list_parked(broker, ROUTING_WORK), what="parked")
    assert [p.message_id for p in before] == [sent.id]

    assert await replay(broker, ROUTING_WORK, "no-such-id") == 0

    # The parked message is still there, once, with its reason (replay takes a message out of
    # the parking queue before it answers, so a wrong one would show here already).
    after = await list_parked(broker, ROUTING_WORK)
    assert [(p.message_id, p.reason) for p in after] == [(sent.id, "kept parked")]
    assert seen == ["d4"]
    await consumer.stop()


async def test_an_unroutable_publish_is_an_error_not_a_silent_drop(broker: Broker) -> None:
    with pytest.raises(BrokerUnavailable, match=r"nowhere\.to\.go"):
        await broker.publish_to_queue("nowhere.to.go", b"{}", {})


class EchoParams(Params):
    a: int = 0
    refuse: bool = False
    slow: bool = False


class Echoed(Result):
    tenant: str | None
    a: int


class Echo(RpcService, queue=REGISTRY_RPC):
    echo = RpcMethod("echo", EchoParams, one(Echoed))


ECHO = Echo.echo


async def test_rpc_answers_refuses_and_times_out(broker: Broker, settings: Settings) -> None:
    async def echo(call: Call[EchoParams]) -> dict[str, Any]:
        if call.params.refuse:
            raise Refusal("device_not_found", 404, device="x")
        if call.params.slow:
            await asyncio.sleep(3)
        if call.params.a < 0:
            return {"tenant": call.tenant, "a": call.params.a, "b": "not declared"}
        return {"tenant": call.tenant, "a": call.params.a}

    server = RpcServer(broker, RpcHandlers(Echo).on(ECHO, echo))
    await server.start()
    # Answers get a generous timeout (a loaded machine logs the undeclared answer's traceback
    # slowly); only the slow call meets the short one.
    client = RpcClient(broker, "test", timeout=10.0)
    await client.start()
    hasty = RpcClient(broker, "test-hasty", timeout=1.0)
    await hasty.start()

    # The client proxy: the declared method, asked for its base, answers its declared result.
    assert await Echo(client, "t1").echo(EchoParams(a=1)) == Echoed(tenant="t1", a=1)
    assert await client.send(REGISTRY_RPC, "echo", {"a": 2}) == {"tenant": None, "a": 2}
    # An answer that is not the declared result fails on the server, not in the caller.
    with pytest.raises(Refusal) as undeclared:
        await Echo(client).echo(EchoParams(a=-1))
    assert (undeclared.value.code, undeclared.value.status) == ("internal_error", 500)
    with pytest.raises(Refusal) as refused:
        await client.call(ECHO, EchoParams(refuse=True))
    assert (refused.value.code, refused.value.status, refused.value.params) == (
        "device_not_found",
        404,
        {"device": "x"},
    )
    # What no typed caller can send: a name the server does not declare, wrong parameters.
    with pytest.raises(Refusal, match="unknown_method"):
        await client.send(REGISTRY_RPC, "nope", {})
    with pytest.raises(Refusal) as malformed:
        await client.send(REGISTRY_RPC, "echo", {"a": "many", "b": 2})
    assert (malformed.value.code, malformed.value.status) == ("validation_error", 422)
    assert malformed.value.params["details"].startswith("a: Input should be a valid integer")
    assert "b: Extra inputs are not permitted" in malformed.value.params["details"]
    with pytest.raises(RpcTimeout):
        await hasty.call(ECHO, EchoParams(slow=True))
    await hasty.stop()
    await server.stop()


async def test_a_request_that_is_not_an_rpc_request_is_answered_bad_request_unhandled(
    broker: Broker,
) -> None:
    asked: list[EchoParams] = []

    async def echo(call: Call[EchoParams]) -> Echoed:
        asked.append(call.params)
        return Echoed(tenant=None, a=0)

    server = RpcServer(broker, RpcHandlers(Echo).on(ECHO, echo))
    await server.start()
    replies: asyncio.Queue[bytes] = asyncio.Queue()
    # A channel of its own, as RpcClient's: a reply taken without acknowledgement on the
    # consumers' channel would stop the runs their acknowledgements are grouped by.
    reply_channel = await broker.connection.channel(publisher_confirms=False)
    reply_queue = await reply_channel.declare_queue("", exclusive=True)

    async def on_reply(message: Any) -> None:
        replies.put_nowait(message.body)

    await reply_queue.consume(on_reply, no_ack=True)
    wrong_type = encode(wrap(DocumentLoaded(document_id="d1"), "t1"))
    for body in (b"not json", b'{"type": "rpc.request"}', wrong_type):
        await broker.publish_to_queue(
            REGISTRY_RPC.name, body, {}, correlation_id="c1", reply_to=reply_queue.name
        )
        reply = orjson.loads(await asyncio.wait_for(replies.get(), timeout=30))
        assert (reply["ok"], reply["code"]) == (False, "bad_request")
        assert reply["params"]["reason"]
    assert "not an rpc.request: document.loaded" in reply["params"]["reason"]
    assert asked == []
    await server.stop()
    await reply_channel.close()


async def test_outbox_events_survive_a_crash_before_relay_and_are_sent_once_relayed(
    broker: Broker, settings: Settings
) -> None:
    store = await open_store(settings, "outbox-test", COLLECTIONS)
    received: list[str] = []

    async def record(envelope: Envelope, payload: DocumentLoaded) -> None:
        received.append(payload.document_id)

    consumer = await _consume(broker, settings, record)
    # No relay running: as if the process died right after committing.
    uow = UnitOfWork(store, relay=None)
    async with uow() as tx:
        await tx.emit(DocumentLoaded(document_id="kept"), "t")
    assert received == []
    # The next process start relays what was committed.
    relay = OutboxRelay(store, broker)
    relay.start()
    await eventually(lambda: asyncio.sleep(0, received), what="relayed")
    assert received == ["kept"]
    await eventually(lambda: store.count("outbox"), until=lambda n: n == 0, what="outbox drained")
    await relay.stop()
    await consumer.stop()
    await store.close()


async def test_an_event_committed_while_the_relay_publishes_is_sent_without_waiting_a_poll(
    broker: Broker, settings: Settings
) -> None:
    store = await open_store(settings, "outbox-wake-test", COLLECTIONS)
    # A poll that never comes within the test: only a wake-up can send the second event.
    relay = OutboxRelay(store, broker, idle_poll=3600)
    uow = UnitOfWork(store, relay)
    received: list[str] = []
    second_committed = asyncio.Event()

    async def record(envelope: Envelope, payload: DocumentLoaded) -> None:
        received.append(payload.document_id)

    consumer = await _consume(broker, settings, record)
    publish = broker.publish_stored

    async def commit_while_publishing(body: bytes, routing_key: str, **properties: Any) -> None:
        if not second_committed.is_set():
            second_committed.set()
            async with uow() as tx:  # wakes the relay while its first publish is in flight
                await tx.emit(DocumentLoaded(document_id="second"), "t")
        await publish(body, routing_key, **properties)

    broker.publish_stored = commit_while_publishing  # type: ignore[method-assign]
    try:
        relay.start()
        async with uow() as tx:
            await tx.emit(DocumentLoaded(document_id="first"), "t")
        await eventually(
            lambda: asyncio.sleep(0, received), until=lambda r: len(r) == 2, what="both sent"
        )
        assert received == ["first", "second"]
    finally:
        broker.publish_stored = publish  # type: ignore[method-assign]
        await relay.stop()
        await consumer.stop()
        await store.close()


async def test_a_message_applied_twice_changes_state_once(settings: Settings) -> None:
    store = await open_store(settings, "idem-test", COLLECTIONS)
    uow = UnitOfWork(store, relay=None)
    envelope = Envelope(type="document.loaded", version=1, correlation_id="c", payload={})
    from shared.outbox import AlreadyApplied

    async with uow(applying=envelope) as tx:
        await tx.emit(DocumentLoaded(document_id="once"), "t")
    with pytest.raises(AlreadyApplied):
        async with uow(applying=envelope) as tx:
            await tx.emit(DocumentLoaded(document_id="twice"), "t")
    rows = await store.find("outbox")
    assert [stored_envelope(r)["payload"]["document_id"] for r in rows] == ["once"]
    await store.close()


async def test_what_a_unit_tells_is_told_once_committed_and_a_failing_telling_is_contained(
    settings: Settings,
) -> None:
    store = await open_store(settings, "tell-test", COLLECTIONS)
    uow = UnitOfWork(store, relay=None)
    told: list[str] = []

    def failing() -> None:
        raise ValueError("a bad label")

    async with uow() as tx:
        tx.once_committed(lambda: told.append("first"))
        tx.once_committed(failing)
        tx.once_committed(lambda: told.append("after the failing one"))
        await tx.emit(DocumentLoaded(document_id="told"), "t")
        assert told == []  # not before the commit
    assert told == ["first", "after the failing one"]
    with pytest.raises(RuntimeError):
        async with uow() as tx:
            tx.once_committed(lambda: told.append("rolled back"))
            raise RuntimeError("the unit fails")
    assert told == ["first", "after the failing one"]
    await store.close()


async def test_messages_sharing_an_ordering_key_apply_in_order(
    broker: Broker, settings: Settings
) -> None:

    applied: list[str] = []

    async def slow_then_fast(envelope: Envelope, payload: ResultSubmitted) -> None:
        # The first message is the slowest: without ordering, later ones would overtake it.
        await asyncio.sleep(0.2 if payload.result_id == "r00" else 0)
        applied.append(payload.result_id)

    consumer = Consumer(
        broker, ROUTING_WORK, {ResultSubmitted: slow_then_fast}, settings.retry_delays_ms, "t"
    )
    await consumer.start()
    sent = [f"r{n:02d}" for n in range(20)]
    for result_id in sent:
        await broker.publish(
            ResultSubmitted(result_id=result_id, delivery_id="d", channel="lan", final=False),
            "t",
        )
    await eventually(
        lambda: asyncio.sleep(0, len(applied)), until=lambda n: n == 20, what="all applied"
    )
    assert applied == sent
    await consumer.stop()


async def test_a_message_about_several_copies_is_ordered_with_each_copy_s_messages(
    broker: Broker, settings: Settings
) -> None:
    from shared.contracts.results import DeliveriesProgressed, DeliveryProgressed, ProgressedCopy

    applied: list[str] = []

    async def progressed(envelope: Envelope, payload: DeliveryProgressed) -> None:
        await asyncio.sleep(0.2)  # the slowest: later messages of its copy must wait for it
        applied.append(f"progress {payload.delivery_id}")

    async def together(envelope: Envelope, payload: DeliveriesProgressed) -> None:
        await asyncio.sleep(0.1)
        applied.append("together " + ",".join(c.delivery_id for c in payload.copies))

    async def submitted(envelope: Envelope, payload: ResultSubmitted) -> None:
        applied.append(f"result {payload.delivery_id}")

    consumer = Consumer(
        broker,
        ROUTING_WORK,
        {
            DeliveryProgressed: progressed,
            DeliveriesProgressed: together,
            ResultSubmitted: submitted,
        },
        settings.retry_delays_ms,
        "t",
    )
    await consumer.start()
    copies = [ProgressedCopy(delivery_id=d, state="downloaded") for d in ("a", "b")]
    for payload in [
        DeliveryProgressed(delivery_id="a", channel="internet", state="downloaded"),
        DeliveriesProgressed(channel="internet", copies=copies),
        ResultSubmitted(result_id="r", delivery_id="b", channel="internet", final=False),
        ResultSubmitted(result_id="r", delivery_id="c", channel="internet", final=False),
    ]:
        await broker.publish(payload, "t")
    await eventually(
        lambda: asyncio.sleep(0, len(applied)), until=lambda n: n == 4, what="all applied"
    )
    # "b"'s result waits for the message of "a" and "b", which waits for "a"'s; "c" waits for
    # nothing.
    assert applied == ["result c", "progress a", "together a,b", "result b"]
    await consumer.stop()


async def test_an_rpc_for_an_http_caller_that_gets_no_answer_is_a_retryable_503(
    broker: Broker,
) -> None:
    from shared.http import HttpCaller

    client = RpcClient(broker, "test", timeout=0.3)
    await client.start()
    # Nobody serves the registry's queue here: the call times out.
    with pytest.raises(Refusal) as refused:
        await Registry(HttpCaller(client), "t").get_device(ByDevice(device_id="d"))
    assert (refused.value.code, refused.value.status) == ("broker_unavailable", 503)


async def test_a_refused_publish_replaces_the_publishing_channel_and_the_next_goes_through(
    broker: Broker,
) -> None:
    """A nack (here: a full queue that rejects publishes) is "not sent, send again later", and
    the next attempt goes out on a fresh channel (a channel may stay refused after a quorum
    queue's leader changed)."""
    channel = await broker.connection.channel()
    full = await channel.declare_queue(
        "test.full", exclusive=True, arguments={"x-max-length": 1, "x-overflow": "reject-publish"}
    )
    await broker.publish_to_queue(full.name, b"{}", {})
    refused_on = broker._publish_channel

    with pytest.raises(BrokerUnavailable, match="Nack"):
        await broker.publish_to_queue(full.name, b"{}", {})

    assert broker._publish_channel is not refused_on
    assert refused_on is not None and refused_on.is_closed
    await full.purge()
    await broker.publish_to_queue(full.name, b"{}", {})
    assert (await full.declare()).message_count == 1
    await channel.close()


def _large_result() -> ResultSubmitted:
    """A 12,000-line partial result of delivery ``d`` (``large``): over 1 MiB as a message."""
    lines = [
        {"line_no": n, "product_id": f"товар-{n:06d}", "barcode": f"46{n:011d}", "quantity": "1.5"}
        for n in range(1, 12_001)
    ]
    return ResultSubmitted.model_validate(
        {"result_id": "large", "delivery_id": "d", "channel": "lan", "final": False, "lines": lines}
    )


async def test_a_large_message_is_handled_with_the_collector_held_off_and_it_comes_back(
    broker: Broker, settings: Settings
) -> None:
    import gc

    from shared.messaging.consumer import LARGE_MESSAGE_BYTES

    collecting: dict[str, bool] = {}

    async def note(envelope: Envelope, payload: ResultSubmitted) -> None:
        collecting[payload.result_id] = gc.isenabled()

    consumer = Consumer(
        broker, ROUTING_WORK, {ResultSubmitted: note}, settings.retry_delays_ms, "t"
    )
    await consumer.start()
    large = _large_result()
    assert len(encode(wrap(large, "t"))) > LARGE_MESSAGE_BYTES
    await broker.publish(large, "t")
    await eventually(lambda: asyncio.sleep(0, collecting), what="the large one handled")
    assert collecting == {"large": False}
    # back on once the message is settled, after the handler returned
    await eventually(lambda: asyncio.sleep(0, gc.isenabled()), until=bool, what="collector on")
    await broker.publish(
        ResultSubmitted(result_id="small", delivery_id="d", channel="lan", final=False), "t"
    )
    await eventually(
        lambda: asyncio.sleep(0, len(collecting)), until=lambda n: n == 2, what="the small one"
    )
    assert collecting == {"large": False, "small": True}
    await consumer.stop()


async def test_a_small_message_does_not_pass_a_large_one_of_its_key_still_being_decoded(
    broker: Broker, settings: Settings
) -> None:
    from shared.messaging.consumer import DECODE_IN_THREAD_BYTES

    applied: list[str] = []

    async def note(envelope: Envelope, payload: ResultSubmitted) -> None:
        applied.append(payload.result_id)

    consumer = Consumer(
        broker, ROUTING_WORK, {ResultSubmitted: note}, settings.retry_delays_ms, "t"
    )
    large = _large_result()
    assert len(encode(wrap(large, "t"))) > DECODE_IN_THREAD_BYTES  # decoded in a thread
    # Both wait in the queue before the consumer starts: delivered together, large first.
    await broker.publish(large, "t")
    small = ResultSubmitted(result_id="small", delivery_id="d", channel="lan", final=False)
    await broker.publish(small, "t")
    await consumer.start()
    await eventually(
        lambda: asyncio.sleep(0, len(applied)), until=lambda n: n == 2, what="both applied"
    )
    assert applied == ["large", "small"]  # decoded at once, the small one waited its turn
    await consumer.stop()


async def test_an_rpc_client_started_twice_then_stopped_leaves_no_reply_channel_open(
    broker: Broker,
) -> None:
    # Answers get a generous timeout (a loaded machine logs the undeclared answer's traceback
    # slowly); only the slow call meets the short one.
    client = RpcClient(broker, "test", timeout=10.0)
    await client.start()
    hasty = RpcClient(broker, "test-hasty", timeout=1.0)
    await hasty.start()
    await client.start()
    reply_queue = client._reply_queue_name
    await client.stop()
    # Had a start's channel stayed open, its consumer would keep the auto-deleted queue.
    probe = await broker.connection.channel()
    with pytest.raises(ChannelNotFoundEntity):
        await probe.declare_queue(reply_queue, passive=True)
    with pytest.raises(BrokerUnavailable, match="not started"):
        await client.send(REGISTRY_RPC, "echo", {})


async def test_a_burst_of_writing_handlers_starts_one_a_turn_of_the_loop_in_order(
    broker: Broker, settings: Settings
) -> None:
    # Published before the consumer starts: the broker hands them over in one burst (its
    # prefetch). The loop's turns are counted; each handler notes the count it starts at.
    sent = [f"d{n:02d}" for n in range(30)]
    for document_id in sent:
        await broker.publish(DocumentLoaded(document_id=document_id), "t")
    started: list[tuple[int, str]] = []
    async with counting_turns() as turns:

        async def note(envelope: Envelope, payload: DocumentLoaded) -> None:
            started.append((turns.count, payload.document_id))
            busy_for(0.002)  # as a handler writing to SQLite holds the loop's thread

        consumer = await _consume(broker, settings, note)
        await eventually(
            lambda: asyncio.sleep(0, len(started)), until=lambda n: n == 30, what="all handled"
        )
        await consumer.stop()
    assert [document_id for _, document_id in started] == sent
    at = [turn for turn, _ in started]
    # Other work ready meanwhile (here the ticker) runs between two handlers' starts.
    assert all(later > earlier for earlier, later in itertools.pairwise(at)), at


async def test_a_burst_of_rpc_requests_starts_one_handler_a_turn(
    broker: Broker, settings: Settings
) -> None:
    started: list[int] = []
    client = RpcClient(broker, "test", timeout=10.0)
    await client.start()
    async with counting_turns() as turns:

        async def echo(call: Call[EchoParams]) -> Echoed:
            started.append(turns.count)
            busy_for(0.002)  # as a registry method reading SQLite holds the loop's thread
            return Echoed(tenant=None, a=call.params.a)

        server = RpcServer(broker, RpcHandlers(Echo).on(ECHO, echo))
        await server.start()
        try:
            # Asked all at once: the requests reach the server together, a burst.
            calls = [client.call(ECHO, EchoParams(a=n)) for n in range(10)]
            answers = await asyncio.wait_for(asyncio.gather(*calls), 10)
        finally:
            await server.stop()
            await client.stop()
    assert sorted(a.a for a in answers) == list(range(10))
    assert all(later > earlier for earlier, later in itertools.pairwise(started)), started


async def test_stopping_an_rpc_server_answers_the_request_in_hand_first(
    broker: Broker, settings: Settings
) -> None:
    answering, release = asyncio.Event(), asyncio.Event()

    async def echo(call: Call[EchoParams]) -> Echoed:
        answering.set()
        await release.wait()
        return Echoed(tenant=None, a=call.params.a)

    server = RpcServer(broker, RpcHandlers(Echo).on(ECHO, echo))
    await server.start()
    client = RpcClient(broker, "test", timeout=10.0)
    await client.start()
    try:
        call = asyncio.create_task(client.call(ECHO, EchoParams(a=7)))
        await asyncio.wait_for(answering.wait(), 10)
        stopping = asyncio.create_task(server.stop())
        await eventually(lambda: asyncio.sleep(0, not server.alive), what="no more taken")
        assert not stopping.done()  # the request in hand is still being answered
        release.set()
        assert await asyncio.wait_for(call, 10) == Echoed(tenant=None, a=7)
        await asyncio.wait_for(stopping, 10)
    finally:
        release.set()
        await client.stop()


def _retried() -> float:
    """Messages the test consumer sent to wait for a delayed retry, so far."""
    labels = {"service": "t", "queue": ROUTING_WORK.name}
    return REGISTRY.get_sample_value("tsdx_messages_retried_total", labels) or 0.0


def _result(result_id: str = "r1") -> ResultSubmitted:
    return ResultSubmitted(result_id=result_id, delivery_id="d", channel="lan", final=False)


@dataclass
class _Kept:
    applied: list[str] = field(default_factory=list)  # results applied, in order
    runs: list[ResultSubmitted] = field(default_factory=list)  # the payload each run got
    commits: int = 0  # commits tried, the aborted ones with them
    retried_before: float = field(default_factory=_retried)

    async def applied_after_a_retry(self) -> None:
        await eventually(lambda: asyncio.sleep(0, self.applied), what="applied after a retry")
        assert _retried() == self.retried_before + 1


@asynccontextmanager
async def _results_kept(
    broker: Broker, settings: Settings, conflicts: int, *, unit_reruns: bool = False
) -> AsyncIterator[tuple[_Kept, Consumer, Store]]:
    """A consumer whose handler keeps each result in a unit of work (its applied-message row
    and one event), of one attempt or re-running itself (``unit_reruns``), on a store whose
    first ``conflicts`` commits are aborted as MongoDB aborts a write conflict."""
    store = await open_store(settings, "conflict-test", COLLECTIONS)
    uow = UnitOfWork(store, relay=None)
    commit = store._commit  # type: ignore[attr-defined]
    kept = _Kept()

    async def conflicting_first() -> None:
        kept.commits += 1
        if kept.commits <= conflicts:
            raise TransactionConflict("write conflict")
        await commit()

    store._commit = conflicting_first  # type: ignore[attr-defined]

    async def keep(envelope: Envelope, payload: ResultSubmitted) -> None:
        kept.runs.append(payload)

        async def emit(tx: Tx) -> None:
            await tx.emit(DocumentLoaded(document_id=payload.result_id), "t")

        if unit_reruns:
            await uow.run(emit, applying=envelope)
        else:
            async with uow(applying=envelope) as tx:
                await emit(tx)
        kept.applied.append(payload.result_id)

    consumer = Consumer(
        broker, ROUTING_WORK, {ResultSubmitted: keep}, settings.retry_delays_ms, "t"
    )
    await consumer.start()
    try:
        yield kept, consumer, store
    finally:
        await consumer.stop()
        await store.close()


async def test_a_handler_whose_transaction_conflicts_runs_again_at_once_in_its_place(
    broker: Broker, settings: Settings
) -> None:
    async with _results_kept(broker, settings, conflicts=1) as (kept, _, store):
        sent = ["r1", "r2", "r3"]  # one copy's results: ordered by the copy
        for result_id in sent:
            await broker.publish(_result(result_id), "t")
        await eventually(
            lambda: asyncio.sleep(0, len(kept.applied)), until=lambda n: n == 3, what="applied"
        )
        # The first ran again before the others: a delayed retry would have let them pass it.
        assert kept.applied == sent
        assert [p.result_id for p in kept.runs] == ["r1", "r1", "r2", "r3"]
        assert kept.runs[1] is not kept.runs[0]  # the message read afresh for its second run
        assert _retried() == kept.retried_before
        rows = await store.find("outbox")
        assert sorted(stored_envelope(r)["payload"]["document_id"] for r in rows) == sent


async def test_a_conflict_that_outlasts_the_re_runs_waits_for_a_retry(
    broker: Broker, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retrying, "MAX_ATTEMPTS", 2)
    async with _results_kept(broker, settings, conflicts=2) as (kept, _, _):
        await broker.publish(_result(), "t")
        await kept.applied_after_a_retry()
        assert len(kept.runs) == 3  # two runs in place, then the retried message's


async def test_a_unit_of_work_that_gave_up_re_running_is_not_run_again_by_its_consumer(
    broker: Broker, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retrying, "MAX_ATTEMPTS", 2)
    async with _results_kept(broker, settings, conflicts=2, unit_reruns=True) as (kept, _, _):
        await broker.publish(_result(), "t")
        # The unit's own two attempts, then the retried message's one: a consumer re-running
        # the handler after the unit gave up would have applied it in place, never retried.
        await kept.applied_after_a_retry()
        assert (len(kept.runs), kept.commits) == (2, 3)


async def test_a_large_message_whose_transaction_conflicts_waits_for_a_retry(
    broker: Broker, settings: Settings
) -> None:
    async with _results_kept(broker, settings, conflicts=1) as (kept, _, _):
        await broker.publish(_large_result(), "t")
        await kept.applied_after_a_retry()
        assert len(kept.runs) == 2  # not read again in place: delivered again


async def test_a_conflict_met_while_its_consumer_stops_waits_for_a_retry(
    broker: Broker, settings: Settings
) -> None:
    async with _results_kept(broker, settings, conflicts=1) as (kept, consumer, store):
        conflicting = store._commit  # type: ignore[attr-defined]

        async def stop_taking_then_conflict() -> None:
            await consumer._cancel()  # the stop's first step: no more deliveries taken
            await conflicting()

        store._commit = stop_taking_then_conflict  # type: ignore[attr-defined]
        await broker.publish(_result(), "t")
        await eventually(
            lambda: asyncio.sleep(0, _retried()),
            until=lambda n: n == kept.retried_before + 1,
            what="sent to wait for a retry",
        )
        assert len(kept.runs) == 1 and kept.applied == []  # not run again while stopping
