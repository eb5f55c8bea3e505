"""``tsdx demo`` against a stack started the way an operator starts it: ``tsdx up``.

``tsdx up`` runs as a child process with its own ports, data directory and RabbitMQ virtual
host; the demo plays every step against it; Ctrl-C (SIGINT) stops the stack cleanly.
"""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.support.broker import amqp_url, create_vhost, delete_vhost, require_broker
from tests.support.cli import ROOT, cli_env, tsdx
from tests.support.stack import free_port
from tests.support.waiting import eventually
from tools.cli.stack import PORT_SETTINGS

ADMIN_TOKEN = "demo-admin-token"
# What each run must show, in its language: the numbered step titles, the server's refusal
# and the closing line.
STEPS = {
    "ru": (
        "Администратор создаёт базу",
        "Терминал подключается и показывает пин-код",
        "Оператор выгружает «Заказ поставщику» по пин-коду",
        "Неверный пин-код отклонён: пин-код ",
        "Терминал есть в списке устройств базы",
        "Вторая выгрузка выбирает устройство из списка",
        "Терминал сканирует и завершает документы",
        "Онлайн: результаты возвращаются",
        "Офлайн: результат ждёт на сервере",
        "Оператор загружает его",
    ),
    "en": (
        "An administrator creates a base",
        "A terminal pairs and shows its PIN",
        "The operator uploads «Заказ поставщику» by PIN",
        "A wrong PIN is refused: PIN ",
        "The terminal is in the base's device list",
        "The second upload picks the device from the list",
        "The terminal scans and finishes",
        "Online: the results come back",
        "Offline: the result waits on the server",
        "The operator loads it",
    ),
}
REFUSAL = {
    "ru": "«Устройство по пин-коду не найдено! Документы не выгружены в ТСД.»",
    "en": "«No device found by this PIN! The documents were not uploaded to the terminal.»",
}
LAST_LINE = {
    "ru": ("Шагов пройдено: 11", "Шагов пройдено: 10, пропущено: 1"),
    "en": ("11 steps passed", "10 steps passed, 1 skipped"),
}
# A Russian run may show Latin letters only in names and identifiers: written as they are
# (ids, codes, addresses: anything with a digit, "@", "/", "_" or "-", such as a connection
# code that happens to be all letters, CPVX-MXLD-DDVX), or these names.
IDENTIFIER = re.compile(r"\S*[\d@/_-]\S*")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
LATIN_ALLOWED = {"tsdx", "demo", "GET", "ivanov"}  # the command, a method, a login


async def test_demo_plays_every_step_on_a_stack_started_with_tsdx_up(tmp_path: Path) -> None:
    require_broker()
    vhost = create_vhost("tsdx-demo")
    ports = {service: free_port() for service in PORT_SETTINGS}
    env = {
        "TSDX_AMQP_URL": amqp_url(vhost),
        "TSDX_ADMIN_TOKEN": ADMIN_TOKEN,
        "TSDX_LOG_FORMAT": "json",
        **{PORT_SETTINGS[service]: str(port) for service, port in ports.items()},
    }
    ready = tmp_path / "ready"
    up = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tools.cli.main", "up", "--data-dir", str(tmp_path / "data"),
        "--logs", str(tmp_path / "logs"), "--ready-file", str(ready),
        env=cli_env(env), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        await eventually(_ready(up, ready), timeout=120, interval=0.2, what="tsdx up's ready file")
        gateway = f"http://127.0.0.1:{ports['gateway']}"
        lan = f"http://127.0.0.1:{ports['lan_writer']}"
        told: dict[str, str] = {}
        for language in ("ru", "en"):
            demo = await tsdx(
                "demo", "--url", gateway, "--lan-url", lan, "--admin-token", ADMIN_TOKEN,
                "--lang", language,
                env={"TSDX_HOME": str(tmp_path / "home")}, timeout=180,
            )  # fmt: skip
            assert demo.code == 0, demo.out + demo.err
            lines = demo.out.splitlines()
            for number, title in enumerate(STEPS[language], start=1):
                assert any(line.startswith(f"{number:2} ✓ {title}") for line in lines), (
                    title,
                    lines,
                )
            assert REFUSAL[language] in demo.out
            assert "✗" not in demo.out
            assert lines[-1].startswith(LAST_LINE[language])
            told[language] = demo.out
        # The Russian run tells every step in Russian: no Latin word but names and identifiers
        # (the base's id and the LAN group's documents are named demo-…, DEMO-…).
        words = LATIN_WORD.findall(IDENTIFIER.sub(" ", told["ru"]))
        english = [word for word in words if word not in LATIN_ALLOWED]
        assert english == [], english
        assert "Администратор создаёт базу" not in told["en"]
    finally:
        if up.returncode is None:
            up.send_signal(signal.SIGINT)  # what Ctrl-C sends
        try:
            output, _ = await asyncio.wait_for(up.communicate(), 60)
        finally:
            if up.returncode is None:
                up.kill()
                await up.wait()
            delete_vhost(vhost)
    text = output.decode()
    assert up.returncode == 0, text
    assert "tsdx работает" in text and "остановка" in text  # tsdx up speaks Russian by default


def _ready(up: asyncio.subprocess.Process, ready: Path) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        if up.returncode is not None:
            raise AssertionError(f"tsdx up exited with {up.returncode} before it was ready")
        return await asyncio.to_thread(ready.exists)

    return probe
