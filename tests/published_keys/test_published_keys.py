"""PublishedKeys: URL rules, address checks, bounded downloads and the cache, against a real
loopback HTTPS server (tests/published_keys/conftest.py)."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from hookseal import ConfigurationError
from hookseal.published_keys import KeyUnavailable, PublishedKeys, URLRule

pytestmark = pytest.mark.server

RULE = URLRule(
    "test key document",
    host=re.compile(r"keys\.example\.com"),
    path=re.compile(r"/[a-z0-9-]{1,40}\.pem"),
)


def as_bytes(raw: bytes) -> bytes:
    if not raw.startswith(b"KEY"):
        raise ValueError("not a key document")
    return raw


def key_ids(raw: bytes) -> frozenset[str]:
    return frozenset(raw.decode().split(","))


# -- URL rules (no network) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://keys.example.com/a.pem",
        "https://evil.example.com/a.pem",
        "https://keys.example.com.evil.com/a.pem",
        "https://keys.example.com@evil.com/a.pem",
        "https://user:pw@keys.example.com/a.pem",
        "https://keys.example.com:8443/a.pem",
        "https://keys.example.com:443/a.pem",
        "https://keys.example.com/a.pem#x",
        "https://keys.example.com/a.pem?x=1",
        "https://keys.example.com/a.txt",
        "https://keys.example.com/dir/../a.pem",
        "https://KEYS.example.com/a.pem",
        "https://keys.example.com\\@evil.com/a.pem",
        "https://keys.example.com/a .pem",
        "https://keys.example.com/\u00e9.pem",
        "HTTPS://keys.example.com/a.pem",
        "https:///a.pem",
        "",
        "https://keys.example.com/" + "a" * 3000 + ".pem",
    ],
)
def test_urls_outside_the_rule_are_refused_without_any_request(url: str) -> None:
    keys = PublishedKeys()
    assert keys.url_problem(url, RULE) is not None
    with pytest.raises(KeyUnavailable):
        keys.get(url, RULE, as_bytes)
    assert keys.fetch_count == 0


def test_a_url_inside_the_rule_is_allowed() -> None:
    assert PublishedKeys().url_problem("https://keys.example.com/abc-1.pem", RULE) is None
    assert RULE.problem("https://keys.example.com/abc-1.pem") is None


def test_a_host_resolving_to_loopback_is_refused_without_a_connection() -> None:
    rule = URLRule("local", host=re.compile("localhost"), path=re.compile(r"/k\.pem"))
    keys = PublishedKeys()
    with pytest.raises(KeyUnavailable, match="non-public address"):
        keys.get("https://localhost/k.pem", rule, as_bytes)


def test_the_test_server_needs_its_explicit_allow_hosts_entry(key_server) -> None:
    url = key_server.serve("/k.pem", b"KEY1")
    assert PublishedKeys(trust_ca=key_server.ca_pem).url_problem(url, RULE) == "it names a port"
    other_port = f"127.0.0.1:{key_server.port + 1}"
    keys = PublishedKeys(allow_hosts=[other_port], trust_ca=key_server.ca_pem)
    with pytest.raises(KeyUnavailable):
        keys.get(url, RULE, as_bytes)
    assert key_server.hits == {}


def test_a_server_certificate_from_an_untrusted_ca_is_refused(key_server) -> None:
    url = key_server.serve("/k.pem", b"KEY1")
    keys = PublishedKeys(allow_hosts=[key_server.origin])  # the system CAs only
    with pytest.raises(KeyUnavailable, match="failed"):
        keys.get(url, RULE, as_bytes)


@pytest.mark.parametrize(
    "options",
    [
        {"timeout": 0},
        {"timeout": 61},
        {"timeout": True},
        {"max_bytes": 0},
        {"ttl": -1},
        {"retry_after": 1.5},
        {"max_fetches_per_minute": None},
        {"allow_hosts": "127.0.0.1:1"},
        {"allow_hosts": ["127.0.0.1"]},
        {"allow_hosts": ["127.0.0.1:99999"]},
        {"trust_ca": "not a certificate"},
        {"clock": 3},
    ],
)
def test_bad_options_raise_configuration_error(options) -> None:
    with pytest.raises(ConfigurationError):
        PublishedKeys(**options)


def test_options_are_read_only() -> None:
    keys = PublishedKeys()
    with pytest.raises(AttributeError):
        keys.allow_hosts = frozenset({("127.0.0.1", 1)})  # type: ignore[misc]
    with pytest.raises(AttributeError):
        keys.max_bytes = 10**9  # type: ignore[misc]


# -- downloads ------------------------------------------------------------------------------


def test_download_then_cache(key_server) -> None:
    url = key_server.serve("/k.pem", b"KEY1")
    keys = key_server.published_keys()
    assert keys.get(url, RULE, as_bytes) == b"KEY1"
    assert keys.get(url, RULE, as_bytes) == b"KEY1"
    assert keys.cached(url, as_bytes) == b"KEY1"
    assert key_server.hits == {"/k.pem": 1}
    assert "TESTING" in repr(keys)


def test_a_redirect_is_not_followed(key_server) -> None:
    key_server.serve("/elsewhere.pem", b"KEY-evil")
    url = key_server.serve(
        "/k.pem", b"", status=302, headers={"Location": key_server.url("/elsewhere.pem")}
    )
    keys = key_server.published_keys()
    with pytest.raises(KeyUnavailable, match="redirect"):
        keys.get(url, RULE, as_bytes)
    assert key_server.hits == {"/k.pem": 1}


@pytest.mark.parametrize("status", [404, 500, 204])
def test_a_non_200_status_is_a_failure(key_server, status) -> None:
    url = key_server.serve("/k.pem", b"KEY1", status=status)
    with pytest.raises(KeyUnavailable):
        key_server.published_keys().get(url, RULE, as_bytes)


def test_an_oversized_declared_body_is_refused(key_server) -> None:
    url = key_server.serve("/k.pem", b"KEY" + b"x" * 5000)
    with pytest.raises(KeyUnavailable, match="max_bytes"):
        key_server.published_keys(max_bytes=4096).get(url, RULE, as_bytes)


def test_an_oversized_chunked_body_is_refused(key_server) -> None:
    url = key_server.serve("/k.pem", b"KEY" + b"x" * 200_000, chunked=True)
    with pytest.raises(KeyUnavailable, match="max_bytes"):
        key_server.published_keys(max_bytes=4096).get(url, RULE, as_bytes)


def test_a_compressed_body_is_refused(key_server) -> None:
    url = key_server.serve("/k.pem", b"KEY1", headers={"Content-Encoding": "gzip"})
    with pytest.raises(KeyUnavailable, match="compressed"):
        key_server.published_keys().get(url, RULE, as_bytes)


def test_a_slow_response_is_cut_at_the_timeout(key_server) -> None:
    url = key_server.serve("/k.pem", b"KEY1", delay=3.0)
    started = time.monotonic()
    with pytest.raises(KeyUnavailable):
        key_server.published_keys(timeout=0.5).get(url, RULE, as_bytes)
    assert time.monotonic() - started < 2.0


def test_a_dripped_body_is_cut_at_the_overall_deadline(key_server) -> None:
    # Each byte arrives well within the socket timeout; the whole takes far longer.
    url = key_server.serve("/k.pem", b"KEY" + b"x" * 100, drip=0.05)
    started = time.monotonic()
    with pytest.raises(KeyUnavailable, match=r"too long|failed"):
        key_server.published_keys(timeout=0.6).get(url, RULE, as_bytes)
    assert time.monotonic() - started < 2.0


def test_a_document_the_parser_refuses_is_a_failure(key_server) -> None:
    url = key_server.serve("/k.pem", b"<html>not keys</html>")
    with pytest.raises(KeyUnavailable, match="not a usable key document"):
        key_server.published_keys().get(url, RULE, as_bytes)


# -- caching, negative caching, budgets -------------------------------------------------------


def test_a_failure_is_remembered_for_retry_after(key_server, manual_clock) -> None:
    url = key_server.serve("/k.pem", b"", status=500)
    keys = key_server.published_keys(clock=manual_clock, retry_after=60)
    for _ in range(50):
        with pytest.raises(KeyUnavailable):
            keys.get(url, RULE, as_bytes)
    assert key_server.hits == {"/k.pem": 1}
    key_server.serve("/k.pem", b"KEY1")
    manual_clock.advance(61)
    assert keys.get(url, RULE, as_bytes) == b"KEY1"
    assert key_server.hits == {"/k.pem": 2}


def test_a_flood_of_new_urls_is_bounded_by_the_fetch_budget(key_server) -> None:
    keys = key_server.published_keys(max_fetches_per_minute=5)
    reasons = set()
    for index in range(40):
        with pytest.raises(KeyUnavailable) as caught:
            keys.get(key_server.url(f"/forged-{index}.pem"), RULE, as_bytes)
        reasons.add(caught.value.reason)
    assert keys.fetch_count == 5
    assert sum(key_server.hits.values()) == 5
    assert reasons == {"key_unavailable", "key_fetch_budget"}


def test_a_flood_of_new_urls_never_starves_the_refresh_of_a_known_document(
    key_server, manual_clock
) -> None:
    """Forged deliveries naming made-up URLs spend the budget; a known URL still refreshes.

    Before, the budget was shared: 20 forged URLs a minute kept a genuine certificate from
    being downloaded again once it was older than twice the ttl (every delivery then a 503).
    """
    url = key_server.serve("/genuine.pem", b"KEY genuine")
    keys = key_server.published_keys(clock=manual_clock, max_fetches_per_minute=5, ttl=60)
    assert keys.get(url, RULE, as_bytes) == b"KEY genuine"
    for minute in range(5):  # far past twice the ttl, the budget spent every minute
        manual_clock.advance(60)
        for index in range(10):
            with pytest.raises(KeyUnavailable):
                keys.get(key_server.url(f"/forged-{minute}-{index}.pem"), RULE, as_bytes)
    key_server.serve("/genuine.pem", b"KEY rotated")
    assert keys.get(url, RULE, as_bytes) == b"KEY rotated"


def test_unknown_key_ids_refresh_at_most_once_per_retry_after(key_server, manual_clock) -> None:
    url = key_server.serve("/jwks.pem", b"a,b")
    keys = key_server.published_keys(clock=manual_clock, retry_after=60)
    assert keys.get(url, RULE, key_ids) == {"a", "b"}
    for index in range(100):  # a flood of tokens naming unknown key ids
        found = keys.get(url, RULE, key_ids, accept=lambda ids, i=index: f"x{i}" in ids)
        assert f"x{index}" not in found
    assert key_server.hits == {"/jwks.pem": 1}  # refreshed less than retry_after ago
    key_server.serve("/jwks.pem", b"a,b,c")  # the sender rotates
    manual_clock.advance(61)
    assert "c" in keys.get(url, RULE, key_ids, accept=lambda ids: "c" in ids)
    assert key_server.hits == {"/jwks.pem": 2}


def test_entries_expire_after_ttl(key_server, manual_clock) -> None:
    url = key_server.serve("/k.pem", b"KEY1")
    keys = key_server.published_keys(clock=manual_clock, ttl=100)
    keys.get(url, RULE, as_bytes)
    manual_clock.advance(99)
    keys.get(url, RULE, as_bytes)
    assert key_server.hits == {"/k.pem": 1}
    manual_clock.advance(2)
    assert keys.cached(url, as_bytes) is None
    keys.get(url, RULE, as_bytes)
    assert key_server.hits == {"/k.pem": 2}


def test_the_cache_is_bounded(key_server) -> None:
    keys = key_server.published_keys(max_entries=3)
    urls = [key_server.serve(f"/k{index}.pem", b"KEY%d" % index) for index in range(5)]
    for url in urls:
        keys.get(url, RULE, as_bytes)
    assert len(keys._cache) == 3
    assert keys.cached(urls[0], as_bytes) is None
    assert keys.cached(urls[4], as_bytes) == b"KEY4"


# -- async ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_aget_does_not_block_the_event_loop(key_server) -> None:
    url = key_server.serve("/k.pem", b"KEY1", delay=0.5)
    keys = key_server.published_keys()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        assert await keys.aget(url, RULE, as_bytes) == b"KEY1"
    finally:
        task.cancel()
    assert ticks >= 10  # the loop kept running during the 0.5 s download
    assert await keys.aget(url, RULE, as_bytes) == b"KEY1"
    assert key_server.hits == {"/k.pem": 1}


def test_get_in_background_refuses_then_serves_from_the_cache(key_server) -> None:
    url = key_server.serve("/k.pem", b"KEY1")
    keys = key_server.published_keys()
    with pytest.raises(KeyUnavailable, match="background"):
        keys.get_in_background(url, RULE, as_bytes)
    deadline = time.monotonic() + 5
    while keys.cached(url, as_bytes) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert keys.get_in_background(url, RULE, as_bytes) == b"KEY1"
    assert key_server.hits == {"/k.pem": 1}


def test_an_expired_document_is_served_for_one_more_ttl_while_downloads_fail(
    key_server, manual_clock
) -> None:
    url = key_server.serve("/k.pem", b"KEY1")
    keys = key_server.published_keys(clock=manual_clock, ttl=100, retry_after=10)
    keys.get(url, RULE, as_bytes)
    key_server.serve("/k.pem", b"", status=503)
    manual_clock.advance(101)
    assert keys.get(url, RULE, as_bytes) == b"KEY1"  # the download failed: stale served
    assert keys.get(url, RULE, as_bytes) == b"KEY1"  # failure remembered: no new request
    assert key_server.hits == {"/k.pem": 2}
    manual_clock.advance(100)  # now past twice the ttl
    with pytest.raises(KeyUnavailable):
        keys.get(url, RULE, as_bytes)
    with pytest.raises(KeyUnavailable):
        keys.get(url, RULE, as_bytes)


def test_the_system_tls_context_is_built_on_the_first_download_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ssl

    built: list[ssl.SSLContext] = []
    original = ssl.create_default_context

    def recording(*args: object, **kwargs: object) -> ssl.SSLContext:
        context = original(*args, **kwargs)  # type: ignore[arg-type]
        built.append(context)
        return context

    monkeypatch.setattr(ssl, "create_default_context", recording)
    keys = PublishedKeys()
    assert built == []  # a process that never downloads never loads the CA store
    context = keys._tls_context()
    assert built == [context]
    assert keys._tls_context() is context  # once
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_tls_settings_that_cannot_be_loaded_are_key_unavailable(
    key_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ssl

    def broken(*args: object, **kwargs: object) -> ssl.SSLContext:
        raise ssl.SSLError("no CA store")

    url = key_server.serve("/k.pem", b"KEY1")
    keys = PublishedKeys(allow_hosts=[key_server.origin])  # the system CAs: built lazily
    monkeypatch.setattr(ssl, "create_default_context", broken)
    with pytest.raises(KeyUnavailable, match="TLS settings"):
        keys.fetch(url, RULE)  # the uncached path (SNS confirmations) maps it too
    with pytest.raises(KeyUnavailable):
        keys.get(url, RULE, as_bytes)
    assert key_server.hits == {}
