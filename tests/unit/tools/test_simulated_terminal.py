"""``tsdx tsd run``'s terminals, when the server stops answering for a while: they ask again,
and the document in hand is finished once: its final result sent again under the same id
while the copy is open, or asked about when the server took it but its answer was lost.
A terminal here is a stand-in for the client's calls, scripted to fail when the test says."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tools.cli import tsd
from tools.cli.tsd import Fleet, work
from tools.client.api import ApiError

DOCUMENT = {
    "header": {"id": "doc-1", "number": "R-1", "accounting_type": "Поступление"},
    "lines": [{"line_no": 1, "product_id": "p-1", "barcodes": ["4601"], "planned_qty": "2"}],
}
SUMMARY = {
    "delivery_id": "copy-1",
    "state": "waiting",
    "lines": 1,
    "number": "R-1",
    "accounting_type": "Поступление",
}


class _ScriptedTerminal:
    """Answers as the gateway does, except where ``failing`` says a call fails (its name and
    how many of its calls)."""

    def __init__(
        self, failing: dict[str, list[Exception]], answer_lost: Exception | None = None
    ) -> None:
        self.failing = failing
        # The final result taken, and then its answer lost on the way back.
        self.answer_lost = answer_lost
        self.results: list[tuple[str, bool]] = []  # (result id, final), as taken
        self.asked: list[str] = []  # result ids asked about
        self.state = "waiting"

    def _maybe_fail(self, call: str) -> None:
        if self.failing.get(call):
            raise self.failing[call].pop(0)

    async def inbox(self, wait: float, known: int) -> dict[str, Any]:
        self._maybe_fail("inbox")
        live = [{**SUMMARY, "state": self.state}]  # a done copy is listed, not to be worked
        return {"documents": live, "withdrawn": []}

    async def download(self, delivery_id: str) -> dict[str, Any]:
        self._maybe_fail("download")
        return {"state": self.state, "document": DOCUMENT, **SUMMARY}

    async def acknowledge(self, delivery_id: str) -> dict[str, Any]:
        self.state = "downloaded"
        return {"state": "downloaded"}

    async def send_result(
        self, delivery_id: str, result_id: str, lines: list[dict[str, Any]], *, final: bool
    ) -> dict[str, Any]:
        self._maybe_fail("send_result")
        if any(taken == result_id for taken, _ in self.results):
            return {"state": "received", "duplicate": True}
        self.results.append((result_id, final))
        self.state = "done"
        if self.answer_lost is not None:
            lost, self.answer_lost = self.answer_lost, None
            raise lost
        return {"state": "received"}

    async def result_status(self, delivery_id: str, result_id: str) -> dict[str, Any]:
        self.asked.append(result_id)
        if any(taken == result_id for taken, _ in self.results):
            return {"state": "received"}
        raise ApiError(404, {"code": "result_not_found", "message": "-"})


async def _run_until_finished(
    terminal: _ScriptedTerminal, monkeypatch: pytest.MonkeyPatch
) -> Fleet:
    monkeypatch.setattr(tsd, "RETRY_PAUSES", (0.0,))
    fleet = Fleet(goal=1)
    await work(terminal, "123456", fleet, 0, "en")  # type: ignore[arg-type]
    return fleet


async def test_a_server_that_does_not_answer_is_asked_again(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def lost() -> Exception:
        return httpx.ConnectError("All connection attempts failed")

    terminal = _ScriptedTerminal({"inbox": [lost(), lost()], "send_result": [lost()]})
    fleet = await _run_until_finished(terminal, monkeypatch)
    assert fleet.finished == 1
    # Its first send failed before the server took it: sent again, one final result.
    [(_, final)] = terminal.results
    assert final and terminal.asked == []
    said = capsys.readouterr()
    # One line when the server is lost, however many calls failed until it answered again,
    # and one when it is back.
    assert said.err.count("[123456] the server does not answer (could not connect: ") == 1
    assert said.err.count("[123456] the server answers again") == 1
    assert "[123456] finished Поступление No. R-1" in said.out


async def test_a_result_taken_whose_answer_was_lost_is_asked_about_not_sent_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = _ScriptedTerminal({}, answer_lost=httpx.ReadError("Server disconnected"))
    fleet = await _run_until_finished(terminal, monkeypatch)
    assert fleet.finished == 1  # counted once the server said it has it
    [(result_id, final)] = terminal.results
    assert final and terminal.asked == [result_id]


@pytest.mark.parametrize("status", [502, 503, 504, 429, 408])
async def test_a_server_busy_for_a_moment_is_asked_again(
    status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    busy = ApiError(status, {"code": "busy", "message": "later"})
    terminal = _ScriptedTerminal({"download": [busy]})
    fleet = await _run_until_finished(terminal, monkeypatch)
    assert fleet.finished == 1 and len(terminal.results) == 1


async def test_a_refusal_is_not_asked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    refused = ApiError(422, {"code": "result_over_plan", "message": "over plan"})
    terminal = _ScriptedTerminal({"send_result": [refused]})
    with pytest.raises(ApiError) as raised:
        await _run_until_finished(terminal, monkeypatch)
    assert raised.value.status == 422 and terminal.results == []
