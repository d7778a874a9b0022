"""Core branches the rest of the suite leaves unexercised, each with an observable effect."""

from __future__ import annotations

import asyncio

import pytest

from hookseal import ConfigurationError, Headers, MalformedHeader, NonceStoreUnavailable, Verifier
from hookseal._events import escape_for_log
from hookseal._forwarded import header_lines, parse_forwarded
from hookseal._headers import HeaderName, read_header
from hookseal._verifier import DEFAULT_STORE
from hookseal.schemes import StandardWebhooks
from hostile._profiles import BY_NAME, NOW

PROFILE = BY_NAME["standard-webhooks-v1"]


class SyncOnlyFailingStore:
    def reserve(self, key: bytes, expires_at: float, now: float) -> bool:
        raise OSError("down")


class AsyncFailingStore:
    async def areserve(self, key: bytes, expires_at: float, now: float) -> bool:
        raise TimeoutError("slow")


@pytest.mark.parametrize("store", [SyncOnlyFailingStore(), AsyncFailingStore()])
def test_averify_fails_closed_on_any_store_failure(store: object) -> None:
    verifier = Verifier(
        StandardWebhooks(), PROFILE.secrets, nonce_store=store, on_event=lambda e: None
    )
    genuine = PROFILE.sign()
    with pytest.raises(NonceStoreUnavailable) as info:
        asyncio.run(verifier.averify(genuine.body, genuine.headers, now=NOW))
    assert info.value.status_code == 503
    assert "down" not in str(info.value)
    assert "slow" not in str(info.value)


def test_configuration_edges() -> None:
    assert repr(DEFAULT_STORE) == "<per-process MemoryNonceStore>"
    with pytest.raises(ConfigurationError):
        Verifier(StandardWebhooks(), PROFILE.secrets, clock=42)  # type: ignore[arg-type]
    from hookseal.digest import content_digest

    assert content_digest(b"", "sha-256").startswith("sha-256=:")  # a single name as a str


def test_headers_mapping_protocol_and_non_text_values() -> None:
    headers = Headers([("X-A", "1"), (b"X-B", b"2")])
    assert "x-a" in headers
    assert "X-B" in headers
    assert 3 not in headers
    assert len(headers) == 2
    assert sorted(headers) == ["x-a", "x-b"]
    assert repr(HeaderName("X-A")) == "HeaderName('X-A')"
    with pytest.raises(MalformedHeader):
        read_header({"X-A": 5}, HeaderName("X-A"), 100)  # type: ignore[dict-item]


def test_escape_for_log_escapes_every_plane() -> None:
    assert escape_for_log("a\u2028b\U0001f600") == "a\\u2028b\\U0001f600"


def test_forwarded_edges() -> None:
    class GetList(dict):  # a Starlette-like mapping
        def getlist(self, name: str) -> object:
            return self.get(name)

    assert header_lines(GetList(), "forwarded") == []
    assert header_lines(GetList({"forwarded": "for=1.2.3.4"}), "forwarded") == ["for=1.2.3.4"]
    from hookseal import ForbiddenAddress

    with pytest.raises(ForbiddenAddress):
        parse_forwarded(['for="1.2.3.4\\'])
    assert parse_forwarded(["  ,  "]) == []
