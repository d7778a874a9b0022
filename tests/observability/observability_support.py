"""Helpers for the observability sink tests: the extras, a verifier, deliveries, leak checks.

Nothing here imports an extra at import time, so the test modules collect in the no-extras
session (where their ``extras``-marked tests are deselected).
"""

from __future__ import annotations

import base64
import importlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from hookseal import Signer, Verifier
from hookseal.schemes import HMACScheme
from hookseal.stores.memory import MemoryNonceStore

SECRET = "observability-secret-0123456789abcdef"
OTHER_SECRET = "some-other-secret-0123456789abcdef"
NOW = 1_700_000_000
BODY = b'{"event":"invoice.paid","amount":4200,"customer":"cus_0123456789"}'


def require(name: str) -> ModuleType:
    """Import an extra, or skip without it (fail when the ``CI`` variable is set)."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        problem = f"{name} is not installed ({exc}): pip install -e '.[all,test]'"
        if os.environ.get("CI"):
            pytest.fail(f"{problem} (CI is set: the observability tests must run there)")
        pytest.skip(problem)


def scheme() -> HMACScheme:
    return HMACScheme(
        "X-Signature",
        prefix="sha256=",
        timestamp_header="X-Timestamp",
        id_header="X-Id",
        template="{id}.{timestamp}.{body}",
    )


def make_verifier(on_event: Any, **options: Any) -> Verifier:
    options.setdefault("nonce_store", MemoryNonceStore())
    options.setdefault("clock", lambda: NOW)
    return Verifier(scheme(), SECRET, on_event=on_event, **options)


def genuine(body: bytes = BODY, msg_id: str = "msg_1", *, timestamp: int = NOW) -> dict[str, str]:
    return Signer(scheme(), SECRET).sign(body, timestamp=timestamp, msg_id=msg_id)


def forged(body: bytes = BODY, msg_id: str = "msg_forged") -> dict[str, str]:
    return Signer(scheme(), OTHER_SECRET).sign(body, timestamp=NOW, msg_id=msg_id)


def _encodings(raw: bytes) -> set[str]:
    forms = {
        raw.decode("latin-1"),
        raw.hex(),
        raw.hex().upper(),
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }
    return {form for form in forms if form}


def assert_no_leak(text: str, *, headers: list[dict[str, str]], body: bytes = BODY) -> None:
    """No secret, signature header value, message id or 16-byte window of ``body`` in ``text``."""
    for secret in (SECRET, OTHER_SECRET):
        for form in _encodings(secret.encode()):
            assert form not in text, "a secret leaked"
    for delivery in headers:
        signature = delivery["X-Signature"]
        assert signature not in text, "a signature header leaked"
        digest = bytes.fromhex(signature.removeprefix("sha256="))
        for form in _encodings(digest):
            assert form not in text, "a signature leaked"
        assert delivery["X-Id"] not in text, "a message id leaked"
    for start in range(len(body) - 15):
        window = body[start : start + 16]
        assert window.decode("latin-1") not in text, "body bytes leaked"
        assert window.hex() not in text, "body bytes leaked (hex)"


def serve_uvicorn(app: Any) -> Iterator[str]:
    """Run ``app`` under uvicorn on a free port of 127.0.0.1; yield its base URL."""
    uvicorn = require("uvicorn")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, lifespan="off", proxy_headers=False, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
