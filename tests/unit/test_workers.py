"""The default store warns once, at WARNING, when the process is one of several workers."""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import pytest

from hookseal import Verifier, _verifier
from hookseal._workers import several_workers
from hookseal.schemes import GitHub


@pytest.fixture(autouse=True)
def _single_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["app.py"])
    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    for name in ("gunicorn", "uwsgi", "mod_wsgi"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(_verifier, "_warned_default_store", False)


def test_a_single_process_is_not_flagged() -> None:
    assert several_workers() is None


def test_aws_lambda_is_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    """Concurrent invocations run in separate environments: the default store sees one."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "webhook-receiver")
    assert several_workers() == "AWS Lambda (one process per execution environment)"


@pytest.mark.parametrize(
    "argv",
    [
        ["gunicorn", "-w", "2", "app:app"],
        ["gunicorn", "-w4", "app:app"],
        ["gunicorn", "--workers=3", "app:app"],
        ["gunicorn", "--workers", "2", "app:app"],
    ],
)
def test_gunicorn_workers_on_the_command_line(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["/usr/bin/" + argv[0], *argv[1:]])
    assert "gunicorn" in (several_workers() or "")


def test_gunicorn_with_one_worker_is_not_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["/usr/bin/gunicorn", "-w", "1", "app:app"])
    assert several_workers() is None


def test_gunicorn_workers_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["/usr/bin/gunicorn", "app:app"])
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--bind 0.0.0.0:80 --workers 4")
    assert several_workers() == "gunicorn with 4 workers"
    monkeypatch.delenv("GUNICORN_CMD_ARGS")
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    assert several_workers() == "gunicorn with 2 workers"


def test_uwsgi_and_mod_wsgi_report_their_process_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uwsgi", types.SimpleNamespace(numproc=4))
    assert several_workers() == "uWSGI with 4 worker processes"
    monkeypatch.setitem(sys.modules, "uwsgi", types.SimpleNamespace(numproc=1))
    monkeypatch.setitem(sys.modules, "mod_wsgi", types.SimpleNamespace(maximum_processes=5))
    assert several_workers() == "mod_wsgi with up to 5 processes"


def test_the_default_store_warns_once_at_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sys, "argv", ["/usr/bin/gunicorn", "-w", "2", "app:app"])
    caplog.set_level(logging.INFO, logger="hookseal")
    Verifier(GitHub(), ["secret"])
    Verifier(GitHub(), ["secret"])
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    text = warnings[0].getMessage()
    assert "gunicorn with 2 workers" in text
    assert "SQLiteNonceStore" in text
    assert "RedisNonceStore" in text


def test_a_shared_store_is_never_warned_about(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sys, "argv", ["/usr/bin/gunicorn", "-w", "2", "app:app"])
    caplog.set_level(logging.INFO, logger="hookseal")
    from hookseal.stores.memory import MemoryNonceStore

    Verifier(GitHub(), ["secret"], nonce_store=MemoryNonceStore())
    Verifier(GitHub(), ["secret"], nonce_store=None)
    assert not caplog.records


def _child(queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    queue.put(several_workers())


def test_a_multiprocessing_worker_is_flagged() -> None:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(queue,))
    process.start()
    try:
        assert "multiprocessing" in queue.get(timeout=60)
    finally:
        process.join(timeout=60)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.server
def test_uvicorn_with_two_workers_logs_the_warning(tmp_path: Path) -> None:
    """A real ``uvicorn --workers 2`` on 127.0.0.1: each worker says it, at WARNING."""
    (tmp_path / "two_workers_app.py").write_text(
        textwrap.dedent(
            """
            from hookseal import Verifier
            from hookseal.schemes import GitHub

            verifier = Verifier(GitHub(), ["secret"])

            async def app(scope, receive, send):
                if scope["type"] != "http":
                    return
                await send({"type": "http.response.start", "status": 204, "headers": []})
                await send({"type": "http.response.body", "body": b""})
            """
        )
    )
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    command = [sys.executable, "-m", "uvicorn", "two_workers_app:app", "--workers", "2"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as server:
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            time.sleep(1.0)  # both workers import the app
        finally:
            server.terminate()
            output, _ = server.communicate(timeout=60)
    text = output.decode(errors="replace")
    assert text.count("one of several workers") >= 1, text


def test_the_default_store_says_it_is_per_process() -> None:
    assert repr(_verifier.DEFAULT_STORE) == "<per-process MemoryNonceStore>"
