"""What the gateway's plain ASGI routes (``upload_route.py``, ``inbox_route.py``) share: a
request's whole body read once and given again to FastAPI when the route hands the request
on, and a JSON answer or the error answer FastAPI's handlers would give."""

from __future__ import annotations

from collections.abc import Awaitable

from starlette.types import Message, Receive, Send

from shared.http import error_answer

_JSON = (b"content-type", b"application/json")


async def whole_body(receive: Receive) -> list[Message]:
    """The request's messages up to its whole body (or the client's going away: then the last
    is not an ``http.request``)."""
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def replaying(messages: list[Message], receive: Receive) -> Receive:
    """A receive that gives the messages already read again, then the server's own."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


async def send_json(send: Send, answer: Awaitable[bytes], language: str) -> None:
    """Send the answer's JSON (200), or what FastAPI's handlers answer to what it raised."""
    try:
        body = await answer
        status = 200
        headers = [(b"content-length", str(len(body)).encode()), _JSON]
    except Exception as exc:  # answered as FastAPI's handlers answer it
        error = error_answer(exc, language)
        status, headers, body = error.status_code, error.raw_headers, bytes(error.body)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
