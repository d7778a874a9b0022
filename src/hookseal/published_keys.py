"""Published keys: fetch a sender's public keys or certificates over HTTPS, safely and rarely.

Some senders sign with a private key and publish the public half at a URL: Amazon SNS names a
certificate URL in each message, Google publishes the keys of its OIDC tokens at one fixed URL.
:class:`PublishedKeys` is the one component that downloads them. Only schemes that need
published keys use it; every other scheme stays offline.

What it guarantees:

- **Only URLs the scheme allows.** Each request names a :class:`URLRule` (``https`` only, an
  exact host pattern and path pattern, no user info, no port, no fragment); anything else is
  refused before any network traffic.
- **Only public addresses.** The host name is resolved once, every address must be globally
  routable (no loopback, private, link-local, shared or reserved ranges) and the connection goes
  to the address that was checked, so a DNS answer cannot change between check and use.
- **No redirects, bounded responses.** A response other than ``200`` is a failure (a redirect
  is never followed); the body is capped at ``max_bytes`` and the whole download at
  ``timeout`` seconds, so a slow or endless response cannot hold a worker.
- **Rare fetches.** Documents are cached (``ttl``, at most ``max_entries``; while downloads
  fail, an expired document is used for at most one more ``ttl``); a failed download
  is remembered for ``retry_after`` seconds (negative caching); an unknown key id triggers at
  most one refresh per ``retry_after``; and no more than ``max_fetches_per_minute`` downloads
  start per minute whatever the traffic, so a flood of forged deliveries naming new URLs or key
  ids cannot make this process fetch per request.
- **Never blocks an event loop.** :meth:`PublishedKeys.aget` runs the download in a worker
  thread; a scheme asked to check a delivery on an event loop's thread with nothing cached
  starts the download in the background and refuses the delivery with :class:`KeyUnavailable`
  (503, so the sender retries) instead of blocking the loop.

Tests serve keys from a loopback HTTPS server: they pass ``allow_hosts=["127.0.0.1:PORT"]``
and ``trust_ca=<their CA's PEM>``. Nothing but an explicit ``allow_hosts`` entry ever reaches a
loopback or private address.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from ._errors import ConfigurationError, KeyUnavailable, VerificationError

__all__ = ["KeyUnavailable", "PublishedKeys", "URLRule", "shared_published_keys"]

T = TypeVar("T")

_MAX_URL_LENGTH = 2048
_CHUNK = 16384


@dataclass(frozen=True)
class URLRule:
    """Which URLs a scheme lets :class:`PublishedKeys` download.

    Attributes:
        name: what the URL is, for messages (``"SNS signing certificate"``).
        host: a regular expression the whole (lower-case) host name must match.
        path: a regular expression the whole path must match.
        query: whether a query string is allowed (default: no).
    """

    name: str
    host: re.Pattern[str]
    path: re.Pattern[str]
    query: bool = False

    def problem(self, url: str) -> str | None:
        """Why ``url`` is not allowed by this rule alone, or None when it is."""
        return _url_problem(url, self, ())


@dataclass(frozen=True)
class _Target:
    host: str
    port: int
    request_path: str
    test_origin: bool


def _url_problem(url: str, rule: URLRule, allow_hosts: Iterable[tuple[str, int]]) -> str | None:
    parsed = _parse(url, rule, frozenset(allow_hosts))
    return parsed if isinstance(parsed, str) else None


def _parse(url: object, rule: URLRule, allow_hosts: frozenset[tuple[str, int]]) -> _Target | str:
    """The download target for ``url``, or a short description of why it is refused."""
    problem = _text_problem(url)
    if problem is not None:
        return problem
    assert isinstance(url, str)  # _text_problem refuses anything else
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return "it is not a well-formed URL"
    problem = _form_problem(url, parts, rule)
    if problem is not None:
        return problem
    host = parts.hostname or ""
    if port is not None:
        if (host, port) in allow_hosts:
            return _Target(host, port, _request_path(parts), test_origin=True)
        return "it names a port"
    if (host, 443) in allow_hosts:
        return _Target(host, 443, _request_path(parts), test_origin=True)
    if host != parts.netloc or rule.host.fullmatch(host) is None:
        return "its host is not one the sender publishes keys from"
    if rule.path.fullmatch(parts.path) is None:
        return "its path is not one the sender publishes keys at"
    return _Target(host, 443, _request_path(parts), test_origin=False)


def _text_problem(url: object) -> str | None:
    """Why ``url`` is not even URL text (too long, not printable ASCII), or None."""
    if not isinstance(url, str) or not url or len(url) > _MAX_URL_LENGTH:
        return "it is not a URL of at most 2048 characters"
    if not url.isascii() or not url.isprintable() or any(c in url for c in " \\"):
        return "it contains characters a URL must not contain"
    return None


def _form_problem(url: str, parts: urllib.parse.SplitResult, rule: URLRule) -> str | None:
    """Why ``url`` is not an https URL of the allowed form (no user, fragment, query), or None."""
    if parts.scheme != "https" or not url.startswith("https://"):
        return "it does not use https"
    if "@" in parts.netloc or parts.username is not None:
        return "it carries user information"
    if parts.fragment or "#" in url:
        return "it has a fragment"
    if (parts.query or "?" in url) and not rule.query:
        return "it has a query string"
    return None


def _request_path(parts: urllib.parse.SplitResult) -> str:
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _parse_allow_hosts(values: Iterable[str]) -> frozenset[tuple[str, int]]:
    result = set()
    if isinstance(values, str):
        raise ConfigurationError("allow_hosts must be a list of 'host:port' strings.")
    for value in values:
        if not isinstance(value, str) or ":" not in value:
            raise ConfigurationError(
                f"allow_hosts entries are 'host:port' strings (for a test server), got {value!r}."
            )
        host, _, port_text = value.rpartition(":")
        if not port_text.isdigit() or not host or not 0 < int(port_text) < 65536:
            raise ConfigurationError(f"allow_hosts entry {value!r} must be 'host:port'.")
        result.add((host.strip("[]").lower(), int(port_text)))
    return frozenset(result)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to one already-checked address, verifying ``host``'s certificate."""

    def __init__(
        self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        try:
            self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


@dataclass
class _Entry:
    value: Any
    fetched: float  # clock() of the download
    expires: float


class PublishedKeys:
    """Downloads and caches published keys for the schemes that need them.

    One instance holds one cache; share it between verifiers (the schemes do by default: see
    :func:`shared_published_keys`). Every option is fixed at construction.

    Args:
        timeout: seconds the whole download may take, connection and TLS included (default 5).
        max_bytes: the largest document accepted (default 64 KiB; keys and certificates are a
            few KiB).
        ttl: seconds a downloaded document is used before it is downloaded again (default 1 h).
        max_entries: the most documents cached at once (default 64); the least recently used
            one is dropped first (it is simply downloaded again when needed).
        retry_after: seconds a failed download is remembered before the URL is tried again,
            and the shortest interval between two refreshes for an unknown key id (default 60).
        max_fetches_per_minute: downloads started per minute, at most (default 20), whatever
            the traffic; beyond it deliveries needing an uncached key get :class:`KeyUnavailable`.
        allow_hosts: **tests only**: ``"host:port"`` origins (a loopback test server) allowed
            in addition to the scheme's own rules, at any address. Never set it in production.
        trust_ca: **tests only**: a PEM CA certificate (bytes or text) trusted instead of the
            system's CA store.
        clock: a monotonic clock in seconds, for cache expiry (tests inject one).

    Raises:
        ConfigurationError: for any invalid option.
    """

    _frozen: bool = False

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        max_bytes: int = 64 * 1024,
        ttl: int = 3600,
        max_entries: int = 64,
        retry_after: int = 60,
        max_fetches_per_minute: int = 20,
        allow_hosts: Iterable[str] = (),
        trust_ca: bytes | str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not (0 < timeout <= 60)
        ):
            raise ConfigurationError("timeout must be a number of seconds above 0, at most 60.")
        for name, value in (
            ("max_bytes", max_bytes),
            ("ttl", ttl),
            ("max_entries", max_entries),
            ("retry_after", retry_after),
            ("max_fetches_per_minute", max_fetches_per_minute),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigurationError(f"{name} must be a positive integer, got {value!r}.")
        if not callable(clock):
            raise ConfigurationError("clock must be a callable returning monotonic seconds.")
        self.timeout = float(timeout)
        self.max_bytes = max_bytes
        self.ttl = ttl
        self.max_entries = max_entries
        self.retry_after = retry_after
        self.max_fetches_per_minute = max_fetches_per_minute
        self.allow_hosts = _parse_allow_hosts(allow_hosts)
        self._clock = clock
        if trust_ca is not None:
            if isinstance(trust_ca, bytes):
                trust_ca = trust_ca.decode("ascii", "replace")
            if not isinstance(trust_ca, str) or "BEGIN CERTIFICATE" not in trust_ca:
                raise ConfigurationError("trust_ca must be a PEM CA certificate (bytes or text).")
            try:
                context: ssl.SSLContext | None = ssl.create_default_context(cadata=trust_ca)
            except ssl.SSLError as exc:
                raise ConfigurationError("trust_ca is not a usable PEM certificate.") from exc
            assert context is not None
            context.minimum_version = ssl.TLSVersion.TLSv1_2
        else:
            # Built on the first download (_tls_context): loading the system's CA store takes
            # tens of milliseconds, which a process that never downloads should not pay.
            context = None
        self._context = context
        self._testing = bool(self.allow_hosts) or trust_ca is not None
        self._cache: collections.OrderedDict[tuple[str, object], _Entry] = collections.OrderedDict()
        self._failures: collections.OrderedDict[tuple[str, object], float] = (
            collections.OrderedDict()
        )
        self._started: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()  # guards the dictionaries above
        self._fetch_lock = threading.Lock()  # one download at a time (single flight)
        self._background: threading.Thread | None = None
        #: Downloads attempted so far (for tests and metrics).
        self.fetch_count = 0
        self._frozen = True

    def __setattr__(self, name: str, value: object) -> None:
        if self._frozen and name not in {"fetch_count", "_background"}:
            raise AttributeError(
                "PublishedKeys options are read-only: build a new PublishedKeys instead."
            )
        object.__setattr__(self, name, value)

    # -- URL rules -------------------------------------------------------------------

    def url_problem(self, url: str, rule: URLRule) -> str | None:
        """Why ``url`` may not be downloaded under ``rule``, or None when it may.

        Schemes call it before any other work on the URL, so a delivery naming a foreign host
        is refused without any network traffic.
        """
        parsed = _parse(url, rule, self.allow_hosts)
        return parsed if isinstance(parsed, str) else None

    # -- the cache -------------------------------------------------------------------

    def cached(self, url: str, parse: Callable[[bytes], T]) -> T | None:
        """The cached, unexpired document for ``url`` (parsed by ``parse``), or None.

        Never does any I/O: safe on an event loop's thread.
        """
        key = (url, parse)
        with self._lock:
            entry = self._cache.get(key)
            if entry is None or entry.expires <= self._clock():
                return None
            self._cache.move_to_end(key)
            return entry.value  # type: ignore[no-any-return]

    def get(
        self,
        url: str,
        rule: URLRule,
        parse: Callable[[bytes], T],
        *,
        accept: Callable[[T], bool] | None = None,
    ) -> T:
        """The document at ``url``, parsed by ``parse``, from the cache or downloaded now.

        Args:
            url: the document's URL; it must pass ``rule`` (else :class:`KeyUnavailable`,
                although schemes check :meth:`url_problem` first and refuse earlier).
            rule: the scheme's :class:`URLRule`.
            parse: turns the downloaded bytes into keys; raises ``ValueError`` for a document
                that is not what was expected. It is part of the cache key.
            accept: when given and the cached document does not satisfy it (an unknown key
                id), the document is downloaded again, at most once per ``retry_after``.

        Raises:
            KeyUnavailable: the document cannot be obtained now.
        """
        target = _parse(url, rule, self.allow_hosts)
        if isinstance(target, str):
            raise KeyUnavailable(f"The {rule.name} URL is not allowed: {target}.")
        key = (url, parse)
        found = self._lookup(key, accept)
        if found is not None:
            return found[0]  # type: ignore[no-any-return]
        if not self._fetch_lock.acquire(timeout=self.timeout):
            raise KeyUnavailable(
                f"The {rule.name} could not be downloaded in time (another download is in "
                "progress). The sender will retry."
            )
        try:
            # Another thread may have downloaded it while this one waited.
            found = self._lookup(key, accept)
            if found is not None:
                return found[0]  # type: ignore[no-any-return]
            try:
                return self._download_and_store(key, target, rule, parse)
            except KeyUnavailable:
                stale = self._stale(key)
                if stale is None:
                    raise
                return stale[0]  # type: ignore[no-any-return]
        finally:
            self._fetch_lock.release()

    def fetch(self, url: str, rule: URLRule) -> bytes:
        """Download ``url`` once, uncached (an action such as confirming a subscription).

        The same URL rule, address checks, size cap, timeout and download budget apply as for
        keys; failures are not remembered.

        Raises:
            KeyUnavailable: the URL is not allowed or the download failed.
        """
        target = _parse(url, rule, self.allow_hosts)
        if isinstance(target, str):
            raise KeyUnavailable(f"The {rule.name} URL is not allowed: {target}.")
        self._spend_budget(rule)
        return self._download(target, rule)

    async def aget(
        self,
        url: str,
        rule: URLRule,
        parse: Callable[[bytes], T],
        *,
        accept: Callable[[T], bool] | None = None,
    ) -> T:
        """:meth:`get` for async code: a download runs in a worker thread, off the event loop."""
        key = (url, parse)
        found = self._lookup(key, accept, count=False)
        if found is not None:
            return found[0]  # type: ignore[no-any-return]
        return await asyncio.to_thread(self.get, url, rule, parse, accept=accept)

    def get_in_background(
        self,
        url: str,
        rule: URLRule,
        parse: Callable[[bytes], T],
        *,
        accept: Callable[[T], bool] | None = None,
    ) -> T:
        """The cached document, or start one background download and raise KeyUnavailable.

        For checks running on an event loop's thread, which must not block: the delivery is
        refused with 503 and the sender's retry finds the document cached. At most one
        background download runs at a time.
        """
        key = (url, parse)
        found = self._lookup(key, accept)
        if found is not None:
            return found[0]  # type: ignore[no-any-return]
        with self._lock:
            running = self._background is not None and self._background.is_alive()
            if not running:
                thread = threading.Thread(
                    target=self._quiet_get,
                    args=(url, rule, parse, accept),
                    name="hookseal-published-keys",
                    daemon=True,
                )
                self._background = thread
                thread.start()
        raise KeyUnavailable(
            f"The {rule.name} is not cached yet and this check runs on an event loop, which "
            "must not block: it is being downloaded in the background and the sender's retry "
            "will be accepted. Call the scheme's aprepare() before averify() to avoid this.",
        )

    def _quiet_get(
        self, url: str, rule: URLRule, parse: Callable[[bytes], Any], accept: Any
    ) -> None:
        with contextlib.suppress(VerificationError):  # remembered; the next delivery says why
            self.get(url, rule, parse, accept=accept)

    def _stale(self, key: tuple[str, object]) -> tuple[Any] | None:
        """An expired entry still within one more ``ttl``, served while downloads fail.

        A sender's key endpoint having a bad minute must not refuse every delivery; a document
        older than twice the ``ttl`` is never used.
        """
        with self._lock:
            entry = self._cache.get(key)
            if entry is not None and self._clock() < entry.fetched + 2 * self.ttl:
                return (entry.value,)
        return None

    def _lookup(
        self,
        key: tuple[str, object],
        accept: Callable[[Any], bool] | None,
        *,
        count: bool = True,
    ) -> tuple[Any] | None:
        """``(value,)`` when the cache answers, None to download; raises for a recent failure."""
        now = self._clock()
        with self._lock:
            entry = self._cache.get(key)
            if entry is not None and entry.expires > now:
                self._cache.move_to_end(key)
                if accept is None or accept(entry.value):
                    return (entry.value,)
                if now - entry.fetched < self.retry_after:
                    return (entry.value,)  # refreshed recently: the key id really is unknown
            failed_until = self._failures.get(key)
            if failed_until is not None:
                if failed_until > now:
                    if entry is not None and now < entry.fetched + 2 * self.ttl:
                        return (entry.value,)  # stale for at most one more ttl
                    raise KeyUnavailable(
                        "The sender's published key could not be downloaded a moment ago; it "
                        f"is tried again after {self.retry_after} s (retry_after). The sender "
                        "will retry.",
                    )
                del self._failures[key]
        return None

    def _download_and_store(
        self, key: tuple[str, object], target: _Target, rule: URLRule, parse: Callable[[bytes], T]
    ) -> T:
        with self._lock:
            known = key in self._cache
        if not known:
            # The budget bounds downloads of URLs never fetched before (what forged traffic
            # can name); refreshing a document that downloaded before is bounded per URL by
            # ttl and retry_after, so a flood of made-up URLs cannot starve it.
            self._spend_budget(rule)
        try:
            raw = self._download(target, rule)
            value = parse(raw)
        except KeyUnavailable as exc:
            self._remember_failure(key)
            raise exc from None
        except Exception as exc:  # the parser's own errors, whatever their type
            self._remember_failure(key)
            raise KeyUnavailable(
                f"The {rule.name} downloaded is not a usable key document "
                f"({type(exc).__name__}); it is tried again after {self.retry_after} s."
            ) from None
        done = self._clock()
        with self._lock:
            self._cache[key] = _Entry(value, done, done + self.ttl)
            self._cache.move_to_end(key)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
            self._failures.pop(key, None)
        return value

    def _spend_budget(self, rule: URLRule) -> None:
        """Count one download against ``max_fetches_per_minute``, or refuse it."""
        now = self._clock()
        with self._lock:
            started = self._started
            while started and started[0] <= now - 60:
                started.popleft()
            if len(started) >= self.max_fetches_per_minute:
                raise KeyUnavailable(
                    f"Too many key downloads in the last minute (max_fetches_per_minute="
                    f"{self.max_fetches_per_minute}); the {rule.name} is not downloaded now.",
                    reason="key_fetch_budget",
                )
            started.append(now)
            self.fetch_count += 1

    def _remember_failure(self, key: tuple[str, object]) -> None:
        with self._lock:
            self._failures[key] = self._clock() + self.retry_after
            self._failures.move_to_end(key)
            while len(self._failures) > self.max_entries:
                self._failures.popitem(last=False)

    # -- the download ----------------------------------------------------------------

    def _addresses(self, target: _Target, rule: URLRule) -> list[str]:
        try:
            infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise KeyUnavailable(f"The {rule.name} host could not be resolved.") from None
        addresses: list[str] = []
        for info in infos:
            text = str(info[4][0])
            try:
                address = ipaddress.ip_address(text.split("%", 1)[0])
            except ValueError:
                continue
            if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
                address = address.ipv4_mapped
            if not target.test_origin and not address.is_global:
                raise KeyUnavailable(
                    f"The {rule.name} host resolves to a non-public address; keys are only "
                    "downloaded from public addresses."
                )
            addresses.append(text)
        if not addresses:
            raise KeyUnavailable(f"The {rule.name} host has no usable address.")
        return addresses

    def _tls_context(self) -> ssl.SSLContext:
        """The TLS context downloads use: the system's CA store, TLS 1.2 at least."""
        context = self._context
        if context is None:
            context = ssl.create_default_context()
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            object.__setattr__(self, "_context", context)
        return context

    def _download(self, target: _Target, rule: URLRule) -> bytes:
        deadline = time.monotonic() + self.timeout
        address = self._addresses(target, rule)[0]
        try:
            context = self._tls_context()
        except (ssl.SSLError, OSError) as exc:
            raise KeyUnavailable(
                f"The system's TLS settings could not be loaded ({type(exc).__name__}), so the "
                f"{rule.name} cannot be downloaded; check the CA certificates installed."
            ) from None
        connection = _PinnedHTTPSConnection(
            target.host, target.port, address, self.timeout, context
        )
        # Each socket operation has the timeout; the watchdog bounds the whole download, so
        # headers or a body dripped one byte at a time cannot hold this thread longer.
        watchdog = threading.Timer(self.timeout, _abort, args=(connection,))
        watchdog.daemon = True
        watchdog.start()
        response: http.client.HTTPResponse | None = None
        try:
            connection.request(
                "GET",
                target.request_path,
                headers={"Accept-Encoding": "identity", "User-Agent": "hookseal"},
            )
            response = connection.getresponse()
            if response.status != 200:
                what = (
                    "a redirect, which is not followed"
                    if 300 <= response.status < 400
                    else (f"status {response.status}")
                )
                raise KeyUnavailable(f"Downloading the {rule.name} gave {what}.")
            encoding = response.getheader("Content-Encoding")
            if encoding not in (None, "identity"):
                raise KeyUnavailable(f"The {rule.name} was sent compressed, which is refused.")
            length = response.getheader("Content-Length")
            if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
                raise KeyUnavailable(
                    f"The {rule.name} is larger than max_bytes ({self.max_bytes})."
                )
            chunks: list[bytes] = []
            size = 0
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise KeyUnavailable(f"Downloading the {rule.name} took too long.")
                if watchdog.finished.is_set():
                    raise KeyUnavailable(f"Downloading the {rule.name} took too long.")
                if connection.sock is not None:
                    connection.sock.settimeout(remaining)
                chunk = response.read1(_CHUNK) if hasattr(response, "read1") else b""
                if not chunk:
                    break
                size += len(chunk)
                if size > self.max_bytes:
                    raise KeyUnavailable(
                        f"The {rule.name} is larger than max_bytes ({self.max_bytes})."
                    )
                chunks.append(chunk)
            return b"".join(chunks)
        except KeyUnavailable:
            raise
        except Exception as exc:  # OSError, ssl and http.client errors, and any other
            raise KeyUnavailable(
                f"Downloading the {rule.name} failed ({type(exc).__name__})."
            ) from None
        finally:
            watchdog.cancel()
            if response is not None:
                response.close()  # a refused response is closed too, not left to the collector
            connection.close()

    def __repr__(self) -> str:
        testing = ", TESTING allow_hosts/trust_ca set" if self._testing else ""
        return (
            f"PublishedKeys(timeout={self.timeout}, max_bytes={self.max_bytes}, ttl={self.ttl}, "
            f"cached={len(self._cache)}{testing})"
        )


def _abort(connection: http.client.HTTPConnection) -> None:
    """Cut a download that outlived its deadline (the reading thread then fails)."""
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


_shared: PublishedKeys | None = None
_shared_lock = threading.Lock()


def shared_published_keys() -> PublishedKeys:
    """The process-wide :class:`PublishedKeys` with default options, which schemes use by default.

    Published keys are the same for every receiver, so one cache per process is right.
    """
    global _shared  # noqa: PLW0603
    with _shared_lock:
        if _shared is None:
            _shared = PublishedKeys()
        return _shared


def running_on_event_loop() -> bool:
    """Whether the calling thread is running an asyncio event loop (so must not block)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
