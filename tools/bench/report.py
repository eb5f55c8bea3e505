"""What a run prints and what ``--write-docs`` writes to docs/performance.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tools.bench.figures import CATALOGUE, Figure, missed, table
from tools.bench.run import Results


def ordered(figures: list[Figure]) -> list[Figure]:
    """In the catalogue's order, whatever order the run measured them in."""
    keys = list(CATALOGUE)
    return sorted(figures, key=lambda f: keys.index(f.key))


def _load(avg: tuple[float, float, float]) -> str:
    return " / ".join(f"{x:.2f}" for x in avg)


def console(results: Results) -> str:
    figures = ordered(results.figures)
    lines = [table(figures), ""]
    lines += [f"- {note}" for note in results.notes]
    lines.append(
        f"- load average (1/5/15 min): {_load(results.load_before)} before, "
        f"{_load(results.load_after)} after"
    )
    failed = missed(figures)
    lines.append("")
    lines.append("targets missed: " + ("; ".join(f.label for f in failed) if failed else "none"))
    return "\n".join(lines)


def as_json(results: Results) -> str:
    def one(f: Figure) -> dict[str, Any]:
        spec = f.spec
        return {
            "key": f.key,
            "label": f.label,
            "value": f.value,
            "unit": spec.unit,
            "ceiling": f.ceiling,
            "ratio": f.ratio,
            "target": spec.target.text(spec.unit) if spec.target else None,
            "met": f.met,
        }

    return json.dumps(
        {
            "machine": vars(results.machine),
            "figures": [one(f) for f in ordered(results.figures)],
            "notes": results.notes,
        },
        ensure_ascii=False,
        indent=2,
    )


# What was changed for speed and what each change did, kept beside this module so that
# --write-docs keeps the record.
CHANGES = (Path(__file__).with_name("changes.md")).read_text(encoding="utf-8") + "\n"

METHOD = """\
All of it runs on the one machine, in one run of `tsdx bench` ({run_seconds:.0f} s this time). The
bench makes a RabbitMQ virtual host of its own and starts, in this order:

**Ceilings.**

- *Raw aio-pika round trip* ({amqp_messages} messages after 200 of warm-up): messages are
  published as the services publish them (persistent, `mandatory`, through a topic exchange,
  with publisher confirms awaited per message and up to 200 in flight at once, as the outbox
  relay pipelines them) into a durable queue of the services' kind (quorum), and consumed on
  a connection of their own with the services' prefetch ({prefetch}), each acknowledged.
  Messages/s from the first publish to the last acknowledgement.
- *Bare FastAPI JSON endpoint*: one `GET` route returning a small JSON object, served by
  uvicorn in its own process with the services' uvicorn settings. Requests/s under the HTTP
  load generator below.
- *The skeleton pipeline*: the least any HTTP-plus-broker exchange must do for one document
  (`tools/bench/skeleton_app.py`): a FastAPI app on uvicorn with uvloop, httptools and orjson,
  like the services, whose upload endpoint publishes each document as one persistent message
  to a quorum queue and answers once the broker confirmed it (confirms pipelined: every
  request in flight has its publish in flight on one channel); a consumer with the services'
  prefetch puts it in a dict; an inbox endpoint long-polls that dict and an ack endpoint
  removes the document. No storage, no logging, no authentication, no decision. It is driven
  exactly as tsdx's sustained upload figure below ({lanes} uploaders, {terminals} terminals,
  the same documents and the same client), and is the ceiling of the upload figures; its own
  ratio to the raw round trip shows whether the skeleton itself is slow.
- Not a ceiling, a reference in the notes: *the same endpoint behind tsdx's HTTP middleware*,
  what every service puts around every endpoint (`shared.http.install_common`: the request's
  JSON log line written to a file, its metrics, the correlation id, the body limit). It shows
  how much of the gap between the bare endpoint and a tsdx endpoint is there before the
  endpoint does any work.

**The HTTP load generator** is a process of its own (never the servers' event loop): {conns}
keep-alive connections, each sending its next request as soon as the previous answer is read,
for {http_seconds:g} s after {http_warmup:g} s of warm-up. It writes pre-built HTTP/1.1
requests and reads `Content-Length` bodies, so that it spends less CPU per request than the
servers it measures. The same generator, with the same settings, measures the bare ceiling and
the tsdx inbox.

**The stack** is then started as `tsdx up` starts it (`tools.cli.stack.Stack`: every service
its own process, embedded SQLite in a scratch directory, log lines in JSON to files). One
setting differs from the defaults: the per-credential request rate limit
(`TSDX_RATE_LIMIT_PER_SECOND`, 20/s by default) is lifted, because it is a policy for one
accounting base, not a capacity; the limiter still runs on every request.

- *Upload → inbox, sustained*: {terminals} terminals are paired through
  `POST /api/v1/terminal/pair`. {lanes} uploaders each upload a supplier order of
  {lines} lines (`POST /api/v1/uploads`, process `purchase-receipt`, to a device picked from
  the list) to a terminal that no other upload is using at that moment; that terminal
  long-polls its inbox (`GET /api/v1/terminal/inbox?wait=10&known=n`) until the document is
  listed, then acknowledges it as a real terminal does (which lets its next long poll wait).
  The uploader then starts its next upload. Documents/s counts the documents listed in an
  inbox within {upload_seconds:g} s, after {upload_warmup:g} s of warm-up. The latency of
  each is upload sent → inbox answer received; p50/p95/p99 are over the same documents.
  The ceiling is the skeleton pipeline, driven the same way.
- *Broker messages published per single-document upload*: RabbitMQ's own counts of messages
  published into (and, in the notes, delivered from) the bench's virtual host over both
  single-document upload phases (read from the management API once its statistics, refreshed
  every 5 s, have settled), less what the stack's own timers published meanwhile (the
  catalog copies' check, a `catalog.heads` request and its reply every 60 s from the gateway
  and the LAN writer, as the registry counts the calls it served; the gateway's greeting on
  its inbox broadcast every 60 s, as it counts them): they publish at the same pace whatever
  the load. The note gives the count in all and those subtracted. What the terminals' contact
  adds (`device.seen`, at a first sighting and then at most once a minute a device) is counted.
- *Latency p99 at half load*: uploads are then started at a steady half of the measured
  throughput, whenever they are due, for {half_seconds:g} s after {half_warmup:g} s of
  warm-up; each latency counts from the moment the upload was due (a late start counts
  against tsdx). The half follows the full load, and so the machine's speed; `python -m
  tools.bench.half_load [rate ...]` measures the same at fixed rates, round after round, on
  a stack of its own (to compare two builds on one machine). The bench's client freezes its
  long-lived objects from the garbage collector as the services do, so that its own full
  collections do not stop it while it times.
- *{batch_documents}-document uploads*: {batch_lanes} uploaders each upload {batch_documents}
  supplier orders of {lines} lines in one request to one terminal, which long-polls until all
  of them are listed and then acknowledges them all in one call, as the terminal app does
  (`POST /api/v1/terminal/documents/ack`); documents/s counts the documents listed
  within {batch_seconds:g} s after {batch_warmup:g} s of warm-up. The ceiling is the skeleton
  pipeline's single-document figure: documents sent together should cost less each. `python
  -m tools.bench.batch_load [uploaders ...]` runs the same round, round after round, on a
  stack of its own (to compare two builds on one machine).
- *{big_lines:,}-line document*: once the broker's message counts have stood still for longer
  than their refresh interval after the uploads (their last progress messages handled), one
  supplier order of {big_lines:,} lines is uploaded to a fresh terminal; the time runs until
  the terminal has it downloaded (`GET /api/v1/terminal/documents/{{id}}`, body read and
  parsed). Then the terminal sends its final result ({big_lines:,} fact lines) and the time
  runs until the document is listed as completed by `GET /api/v1/results` (asked every 20 ms).
- *Inbox polls*: pairing {devices:,} terminals and routing {documents:,} documents through the
  API would take far longer than the bench may (the notes give this run's pairing rate). So one
  terminal is paired and one document routed through the real API; then the registry and the
  gateway are stopped, and their stored records (the registry's device, the gateway's copy of
  it, the inbox row) are copied with new ids, hardware ids, PINs and credentials into their
  SQLite stores, through the storage port and the collections their own repository modules
  declare, until there are {devices:,} devices with {per_device} documents each: three open
  (waiting, downloaded, in progress: what the inbox lists) and the rest finished (stored and
  skipped by the query's index). Routing's copy of the directory is given the same devices,
  as the registry's events would have left it. The registry and the gateway are started
  again, and two seeded inboxes are checked through the API. The poll path is the real one: Bearer
  credential → the gateway's device copy by credential hash → rate limit → sighting → inbox
  query → JSON. The load generator first polls once from every device (a device not seen for
  30 s has its `last_seen` written, once, with the others of that second), then measures
  requests/s of `GET /api/v1/terminal/inbox?wait=0`, each request from the next device in turn.
- *Long polls*: {long_polls:,} more terminals, without documents, are seeded with the poll
  base. A load generator in a process of its own (its file-descriptor limit raised to what it
  needs; loopback only) opens a keep-alive connection for each and holds a long poll on each
  (`wait={long_poll_wait:g}`), polling again whenever one ends and acknowledging what arrives.
  Once the gateway counts 90% of them waiting (`tsdx_long_polls_waiting`) and has published
  the events of their first polls (each a sighting; at most 120 s), {long_poll_documents}
  documents are uploaded at {long_poll_rate:g} per second, each to a waiting terminal of its
  own; the latency of each runs from the upload sent until the generator read it in a poll's
  answer (wall clock, both processes on one machine); p99 over the documents. The gateway's
  resident memory peak through the phase is the memory figure. The phase is bounded: the
  generator is stopped once every document ended a poll, or after 30 s. A gateway that does
  not take every connection within 300 s ends the phase: the figure is then infinite.
- *Resident memory*: `VmRSS` from `/proc/<pid>/status` of each service process, idle ({settle:g} s
  after the stack is ready, before any load); and its peak through the upload,
  large-document and poll phases, as the kernel records it (`VmHWM`, reset through
  `/proc/<pid>/clear_refs` when each phase starts), so that no short peak between two samples
  is missed (the notes give each phase's peak).

**CPU notes.** The notes also give the CPU time (user + system, from `/proc/<pid>/stat`) each
process spent in a phase, divided by the documents or requests handled in it, warm-up
included. On a small machine shared with other work, rates move with whatever else runs;
CPU milliseconds per document move less, and show where the cost is. "RabbitMQ" is the
whole broker process, which other users of the same broker share; "bench client" is the
process that drives uploads.
"""


CATALOG_HEADING = "## The catalog (справочники)"

CATALOG_METHOD = """\
A shop's catalog: {products:,} products, every other one with a box barcode (factor 12) beside
its piece barcode, so 1.5 barcodes a product. Measured on the stack as `tsdx up` starts it
(embedded SQLite), through the public API, from one HTTP/1.1 keep-alive connection (httpx):

- *Upload*: the products go to `POST /api/v1/catalog` as `tsdx catalog upload` sends them, in
  calls of 5,000, one after another; the time runs from the first call to the last answer (the
  registry has committed every call and its `catalog.changed` messages are in its outbox).
  *Served by the gateway's copy* runs on until a terminal's sync reports that version.
  The ceiling is the same bodies posted to the bare endpoint, which reads each whole and
  answers.
- *Full sync*: one paired terminal takes every page from version 0 (`GET
  /api/v1/terminal/catalog?since=…&limit=5000`, `Accept-Encoding: gzip`, bodies read whole);
  the bytes on the wire are the compressed bodies. The ceiling is the bare endpoint serving
  the very same bytes, page after page, on the same kind of connection.
- *Delta sync*: {changes} products are renamed in one call; once the copy serves them, the
  terminal asks for the changes after the version of its full sync: the median of
  {repeats} such syncs (one page each). Ceiling: the same bytes from the bare endpoint.
- *RSS*: the peak (`VmHWM`) of each service through the upload and the syncs.
"""


def catalog_section(results: Results) -> str:
    """The catalog's figures, how they are measured, and the notes about them."""
    from tools.bench.catalog import DELTA_REPEATS

    figures = [f for f in ordered(results.figures) if _is_catalog(f)]
    notes = [n for n in results.notes if "catalog" in n]
    method = CATALOG_METHOD.format(
        products=results.plan.catalog_products,
        changes=results.plan.catalog_changes,
        repeats=DELTA_REPEATS,
    )
    failed = missed(figures)
    return "\n".join(
        [
            CATALOG_HEADING,
            "",
            table(figures),
            "",
            "Targets missed: " + ("; ".join(f.label for f in failed) + "." if failed else "none."),
            "",
            method,
            *[f"- {note}" for note in notes],
            f"- load average (1/5/15 min): {_load(results.load_before)} before, "
            f"{_load(results.load_after)} after",
            "",
        ]
    )


def with_catalog_section(document: str, section: str) -> str:
    """``document`` (docs/performance.md) with its catalog section replaced, or added."""
    start = document.find(CATALOG_HEADING)
    if start < 0:
        return document.rstrip("\n") + "\n\n" + section
    end = document.find("\n## ", start + len(CATALOG_HEADING))
    rest = document[end + 1 :] if end >= 0 else ""
    return document[:start] + section + ("\n" + rest if rest else "")


def _is_catalog(fig: Figure) -> bool:
    return fig.key.startswith(("catalog_", "rss_catalog_"))


def markdown(results: Results) -> str:
    plan = results.plan
    figures = [f for f in ordered(results.figures) if not _is_catalog(f)]
    failed = missed(figures)
    method = METHOD.format(
        amqp_messages=plan.amqp_messages,
        prefetch=results.prefetch,
        conns=plan.http_connections,
        http_seconds=plan.http_seconds,
        http_warmup=plan.http_warmup,
        terminals=plan.terminals,
        lanes=plan.lanes,
        lines=plan.upload_lines,
        upload_seconds=plan.upload_seconds,
        upload_warmup=plan.upload_warmup,
        half_seconds=plan.half_seconds,
        half_warmup=plan.half_warmup,
        big_lines=plan.big_lines,
        devices=plan.poll_devices,
        documents=plan.poll_documents,
        per_device=plan.per_device,
        settle=results.settle_seconds,
        batch_lanes=plan.batch_lanes,
        batch_documents=plan.batch_documents,
        batch_seconds=plan.batch_seconds,
        batch_warmup=plan.batch_warmup,
        long_polls=plan.long_polls,
        long_poll_documents=plan.long_poll_documents,
        long_poll_rate=plan.long_poll_rate,
        long_poll_wait=plan.long_poll_wait,
        run_seconds=results.seconds,
    )
    parts = [
        "# Performance",
        "",
        "Measured by `tsdx bench --write-docs`, which rewrites this file; `tsdx bench` alone",
        "prints the same table. Every figure comes from one run on the machine below, with its",
        "ceilings measured in the same run.",
        "",
        "## Machine",
        "",
        *results.machine.lines(),
        f"- load average (1/5/15 min): {_load(results.load_before)} before the run, "
        f"{_load(results.load_after)} after",
        "",
        "A load average above zero before or after the run means other work shared the cores:",
        "rates and latencies then come out lower than the machine can do alone. The CPU",
        "milliseconds per document in the notes move less, but they move too (the same code",
        "has measured 0.65 and 1.01 ms per inbox poll on this machine).",
        "",
        "## Figures",
        "",
        table(figures),
        "",
        "Targets missed: " + ("; ".join(f.label for f in failed) + "." if failed else "none."),
        "",
        "## How each figure is measured",
        "",
        method,
        CHANGES,
        "## Notes of this run",
        "",
        *[f"- {note}" for note in results.notes],
        "",
        catalog_section(results),
    ]
    return "\n".join(parts)
