"""Django integration: ``@verify_webhook``, ``WebhookMiddleware`` and ``DjangoCacheNonceStore``.

``@verify_webhook(verifier)`` protects one view (sync or async, under WSGI or ASGI) and exempts
that view alone from CSRF checks; ``WebhookMiddleware`` protects the views that
``settings.HOOKSEAL`` names (by URL name or by a path resolved to its view at startup), under
every URL that routes to them. Either way the view runs only for a delivery that passed every
check, finds the :class:`~hookseal.Verified` at ``request.webhook`` (or with
``get_webhook(request)``), and can read the same bytes again from ``request.body``; a verified
request is authenticated by its signature and is exempt from CSRF checks. Rejections get the
generic text for their status.

What Django lets an adapter bound: the adapter reads at most ``max_body_bytes + 1`` bytes
into memory, and refuses a ``Content-Length`` over the limit before reading any. What the
server did before Django runs is outside its reach: under ASGI, Django's handler has already
spooled the whole body (to memory up to ``FILE_UPLOAD_MAX_MEMORY_SIZE``, then to a temporary
file), and some WSGI servers (waitress) buffer it too; limit the upload in front of Django
(the server's or proxy's body limit, or wrap the ASGI application in
:class:`hookseal.contrib.starlette.WebhookMiddleware`). Under WSGI, Django reads only
``Content-Length`` bytes, so a chunked body without one arrives empty and is refused.
"""

from __future__ import annotations

import functools
import io
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeVar

try:
    from asgiref.sync import iscoroutinefunction, markcoroutinefunction
    from django.conf import settings
    from django.core.exceptions import (
        BadRequest,
        ImproperlyConfigured,
        PermissionDenied,
        SuspiciousOperation,
    )
    from django.http import Http404, HttpRequest, HttpResponse
    from django.http.multipartparser import MultiPartParserError
    from django.middleware.csrf import CsrfViewMiddleware
    from django.urls import URLPattern, URLResolver, get_resolver
    from django.urls.exceptions import Resolver404
    from django.utils import translation
    from django.utils.module_loading import import_string
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "hookseal.contrib.django needs Django: pip install 'hookseal[django]'"
    ) from exc

from .._delivery import Delivery, Verified
from .._errors import ConfigurationError, VerificationError
from .._handshake import HandshakeReply
from .._headers import Headers
from .._verifier import Verifier
from ..stores.django import DjangoCacheNonceStore
from ._common import (
    RejectHook,
    check_on_reject,
    check_release_on_error,
    check_replay_status,
    check_verifier,
    declared_length,
    generic_body,
    handler_failed,
    payload_too_large,
    record_early_rejection,
    run_on_reject,
    status_for,
)
from ._handshakes import ahandshake_reply, handshake_reply, unsigned_handshake_reply
from ._origin import check_public_url, exact_hosts, signs_url

__all__ = ["DjangoCacheNonceStore", "WebhookMiddleware", "get_webhook", "verify_webhook"]

F = TypeVar("F", bound=Callable[..., Any])


# -- reading and verifying ------------------------------------------------------------------


def _headers(request: HttpRequest) -> Headers:
    """Header lines as received: raw ASGI lines (repeats kept), else Django's WSGI headers."""
    scope = getattr(request, "scope", None)
    if isinstance(scope, Mapping) and scope.get("headers") is not None:
        return Headers.from_asgi(scope["headers"])
    return Headers(list(request.headers.items()))


def _read_body(request: HttpRequest, limit: int) -> bytes:
    """Read at most ``limit + 1`` bytes and leave them as ``request.body`` for the view."""
    declared = declared_length(request.META.get("CONTENT_LENGTH") or None)
    if declared is not None and declared > limit:
        raise payload_too_large(declared, limit)
    if hasattr(request, "_body"):  # already read (request.body or a urlencoded request.POST)
        cached: bytes = request.body
        return cached
    if getattr(request, "_read_started", False):  # consumed, e.g. by a multipart request.POST
        return b""
    data: bytes = request.read(limit + 1)
    if len(data) > limit:
        raise payload_too_large(None, limit)
    # What HttpRequest.body does after reading: cache the bytes and serve them again.
    request._body = data
    request._stream = io.BytesIO(data)
    return data


_NO_ORIGIN = (
    "{where} uses a scheme that signs the request URL ({scheme}), and without a trusted origin "
    "the URL would be rebuilt from the request's Host header, the client's claim. Set "
    "public_url='https://your.public.host' on @verify_webhook (settings.HOOKSEAL_PUBLIC_URL for "
    "WebhookMiddleware): the base URL the sender is configured with; or list only exact host "
    "names in settings.ALLOWED_HOSTS (no '*', no '.example.com' patterns)."
)


def _check_origin(verifier: Verifier, public_url: str | None, where: str) -> None:
    """Refuse a URL-signing scheme with no trusted origin (``public_url`` or exact hosts)."""
    if public_url is None and signs_url(verifier) and not exact_hosts(settings.ALLOWED_HOSTS):
        raise ConfigurationError(_NO_ORIGIN.format(where=where, scheme=verifier.scheme.name))


def _signed_url(request: HttpRequest, public_url: str | None) -> str:
    """The URL the sender addressed: ``public_url`` + the path, else from the checked host."""
    if public_url is not None:
        return public_url + str(request.get_full_path())
    return str(request.build_absolute_uri())  # get_host() checks the host: ALLOWED_HOSTS


def _delivery_parts(
    request: HttpRequest, public_url: str | None
) -> tuple[Headers, str, str, str | None]:
    remote_addr = request.META.get("REMOTE_ADDR") or None
    method = request.method or "POST"
    return _headers(request), method, _signed_url(request, public_url), remote_addr


def _prepare(request: HttpRequest, verifier: Verifier, public_url: str | None) -> Delivery:
    # Checked on every request as well as at startup: settings.ALLOWED_HOSTS may change.
    _check_origin(verifier, public_url, "The verifier of this view")
    headers, method, url, remote_addr = _delivery_parts(request, public_url)
    try:
        body = _read_body(request, verifier.limits.max_body_bytes)
    except VerificationError as error:
        record_early_rejection(
            verifier, error, headers, method=method, url=url, remote_addr=remote_addr
        )
        raise
    return Delivery(body, headers, method=method, url=url, remote_addr=remote_addr)


def _accepted(request: HttpRequest, verified: Verified) -> None:
    """Hand ``verified`` to the view; the request is authenticated by its signature.

    CSRF protection must not refuse it after the replay record was made (the sender's retry
    would then be refused as a replay and the delivery lost): ``_dont_enforce_csrf_checks``
    is the flag ``CsrfViewMiddleware`` and ``@csrf_protect`` read for exactly this (Django's
    test client sets it too); Django has no public per-request exemption.
    """
    request.webhook = verified
    request._dont_enforce_csrf_checks = True


def get_webhook(request: HttpRequest) -> Verified:
    """The :class:`~hookseal.Verified` delivery of ``request`` (``request.webhook``).

    Raises:
        LookupError: the request was not verified by hookseal (its view is not protected).
    """
    verified = getattr(request, "webhook", None)
    if not isinstance(verified, Verified):
        raise LookupError(
            "This request was not verified by hookseal: its view is not protected. Decorate "
            "the view with @verify_webhook(verifier), or name it in settings.HOOKSEAL with "
            "hookseal.contrib.django.WebhookMiddleware in settings.MIDDLEWARE."
        )
    return verified


def _rejection(
    request: HttpRequest, error: VerificationError, replay_status: int, hook: RejectHook | None
) -> HttpResponse:
    run_on_reject(hook, request, error)
    return HttpResponse(
        f"{generic_body(error)}\n",
        status=status_for(error, replay_status),
        content_type="text/plain; charset=utf-8",
    )


def _response(reply: HandshakeReply) -> HttpResponse:
    """The Django response for a handshake reply."""
    response = HttpResponse(reply.body, status=reply.status, content_type=reply.content_type)
    for name, value in reply.all_headers():
        if name.lower() != "content-type":
            response[name] = value
    return response


def _unsigned_handshake(request: HttpRequest, verifier: Verifier) -> HttpResponse | None:
    """The response to an unsigned handshake request (``GET ?challenge=``), or None."""
    if not verifier.answers_unsigned_handshakes:
        return None  # the scheme has none: nothing to build
    query = request.META.get("QUERY_STRING") or ""
    method = request.method or "GET"
    try:
        headers = _headers(request)
    except VerificationError:
        return None  # unusable header lines: verification refuses them and says why
    remote_addr = request.META.get("REMOTE_ADDR") or None
    reply = unsigned_handshake_reply(verifier, method, str(query), headers, remote_addr)
    return None if reply is None else _response(reply)


def verify_request(
    request: HttpRequest,
    verifier: Verifier,
    replay_status: int = 409,
    on_reject: RejectHook | None = None,
    public_url: str | None = None,
) -> HttpResponse | None:
    """Verify ``request``: set ``request.webhook`` and return None, or return the response.

    The response is the rejection, or the reply to a subscription handshake (answered
    without calling the view; see docs/handshakes.md).

    Raises:
        ConfigurationError: the scheme signs the URL and there is no trusted origin.
    """
    answer = _unsigned_handshake(request, verifier)
    if answer is not None:
        return answer
    try:
        verified = verifier.verify_delivery(_prepare(request, verifier, public_url))
    except VerificationError as error:
        return _rejection(request, error, replay_status, on_reject)
    reply = handshake_reply(verifier, verified)
    if reply is not None:
        return _response(reply)
    _accepted(request, verified)
    return None


async def averify_request(
    request: HttpRequest,
    verifier: Verifier,
    replay_status: int = 409,
    on_reject: RejectHook | None = None,
    public_url: str | None = None,
) -> HttpResponse | None:
    """The asynchronous form of :func:`verify_request` (awaits the async nonce store)."""
    answer = _unsigned_handshake(request, verifier)
    if answer is not None:
        return answer
    try:
        delivery = _prepare(request, verifier, public_url)
        verified = await verifier.averify_delivery(delivery)
    except VerificationError as error:
        return _rejection(request, error, replay_status, on_reject)
    reply = await ahandshake_reply(verifier, verified)
    if reply is not None:
        return _response(reply)
    _accepted(request, verified)
    return None


# -- the view decorator ---------------------------------------------------------------------

#: Set on every ``@verify_webhook`` wrapper (the verifier), so that the middleware can refuse a
#: configuration that would verify the same delivery twice (the second check sees a replay).
_VIEW_MARK = "_hookseal_verifier"


def _settings_loaded() -> bool:
    """Whether Django's settings can be read now (configured, or loadable from the env)."""
    try:
        settings.ALLOWED_HOSTS  # noqa: B018 - loads the settings module if it is set
    except ImproperlyConfigured:
        return False
    return True


# Exceptions Django answers with a 4xx (django.core.handlers.exception): the handler refused
# the delivery, it did not fail.
_CLIENT_ERRORS = (BadRequest, Http404, MultiPartParserError, PermissionDenied, SuspiciousOperation)


def _release_if_failed(
    verifier: Verifier, verified: Verified, response: Any, exc: Exception | None
) -> None:
    """Release the replay record when the handler raised (not a 4xx exception) or gave 5xx."""
    if exc is not None:
        if not isinstance(exc, _CLIENT_ERRORS):
            verifier.release(verified)
    elif handler_failed(getattr(response, "status_code", None)):
        verifier.release(verified)


async def _arelease_if_failed(
    verifier: Verifier, verified: Verified, response: Any, exc: Exception | None
) -> None:
    """The asynchronous form of :func:`_release_if_failed`."""
    if exc is not None:
        if not isinstance(exc, _CLIENT_ERRORS):
            await verifier.arelease(verified)
    elif handler_failed(getattr(response, "status_code", None)):
        await verifier.arelease(verified)


def verify_webhook(
    verifier: Verifier,
    *,
    replay_status: int = 409,
    on_reject: RejectHook | None = None,
    release_on_error: bool = True,
    public_url: str | None = None,
) -> Callable[[F], F]:
    """Protect one view (sync or async): it runs only for deliveries ``verifier`` accepts.

    The view is exempt from CSRF checks (a webhook carries a signature, not a session
    cookie), with no second decorator; no other view is affected. A verified request is also
    marked exempt for a ``@csrf_protect`` placed below this decorator.

    Args:
        verifier: the :class:`~hookseal.Verifier` for this endpoint's sender.
        replay_status: the status answered to a replayed delivery (default 409).
        on_reject: ``on_reject(request, error)``, called once per rejection (for metrics);
            its failures are logged and ignored.
        release_on_error: when the view raises (other than the exceptions Django answers
            with a 4xx) or answers 5xx, forget the delivery's replay record
            (:meth:`~hookseal.Verifier.release`) so that the sender's retry is accepted. On
            by default, bounded per delivery by the verifier's ``max_releases`` (counted in
            the nonce store); False keeps every record. An exception that a middleware's
            ``process_exception`` turns into a 4xx still counts as a failure here; the
            middleware form sees the final response instead.
        public_url: the public base URL the sender addresses (``"https://hooks.example.com"``),
            from which the signed URL is rebuilt (``public_url`` + the request's full path).
            Required for schemes that sign the URL (Twilio, RFC 9421) unless
            ``settings.ALLOWED_HOSTS`` lists exact host names only.

    Raises:
        ConfigurationError: for an invalid option; for a URL-signing scheme without a trusted
            origin, when the decorator runs (if Django's settings are loaded) and on each
            request (a 500: the view never runs unverified).
    """
    checked = check_verifier(verifier)
    status = check_replay_status(replay_status)
    hook = check_on_reject(on_reject)
    release = check_release_on_error(release_on_error)
    base_url = check_public_url(public_url)
    if signs_url(checked) and base_url is None and _settings_loaded():
        _check_origin(checked, None, "The verifier given to @verify_webhook")

    def decorator(view: F) -> F:
        if iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                rejection = await averify_request(request, checked, status, hook, base_url)
                if rejection is not None:
                    return rejection
                if not release:
                    return await view(request, *args, **kwargs)
                try:
                    response = await view(request, *args, **kwargs)
                except Exception as exc:
                    await _arelease_if_failed(checked, request.webhook, None, exc)
                    raise
                await _arelease_if_failed(checked, request.webhook, response, None)
                return response

            wrapped: Any = async_wrapper
        else:

            @functools.wraps(view)
            def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                rejection = verify_request(request, checked, status, hook, base_url)
                if rejection is not None:
                    return rejection
                if not release:
                    return view(request, *args, **kwargs)
                try:
                    response = view(request, *args, **kwargs)
                except Exception as exc:
                    _release_if_failed(checked, request.webhook, None, exc)
                    raise
                _release_if_failed(checked, request.webhook, response, None)
                return response

            wrapped = wrapper
        wrapped.csrf_exempt = True  # what django's csrf_exempt sets, for this view only
        setattr(wrapped, _VIEW_MARK, checked)  # WebhookMiddleware refuses to verify it again
        return wrapped  # type: ignore[no-any-return]

    return decorator


# -- the middleware -------------------------------------------------------------------------


def _load(value: object, what: str) -> object:
    if isinstance(value, str):
        try:
            return import_string(value)
        except ImportError as exc:
            raise ConfigurationError(f"{what}: cannot import {value!r} ({exc}).") from exc
    return value


def _targets_from_settings() -> dict[str, Verifier]:
    configured = getattr(settings, "HOOKSEAL", None)
    if not isinstance(configured, Mapping) or not configured:
        raise ConfigurationError(
            "settings.HOOKSEAL must map URL names ('webhooks:github') or paths that resolve to "
            "a view ('/hooks/github/') to hookseal.Verifier objects or their dotted import paths."
        )
    targets: dict[str, Verifier] = {}
    for key, target in configured.items():
        if not isinstance(key, str) or not key.strip() or key != key.strip():
            raise ConfigurationError(
                f"settings.HOOKSEAL keys must be URL names or paths starting with '/': {key!r}."
            )
        where = f"settings.HOOKSEAL[{key!r}]"
        targets[key] = check_verifier(_load(target, where), where)
    return targets


def _languages() -> list[str]:
    """LANGUAGE_CODE first, then every code in LANGUAGES (for ``i18n_patterns`` paths)."""
    codes = [settings.LANGUAGE_CODE]
    if settings.USE_I18N:
        codes += [code for code, _ in settings.LANGUAGES if code not in codes]
    return codes


def _walk(
    patterns: Sequence[URLPattern | URLResolver], namespaces: tuple[str, ...] = ()
) -> Iterator[tuple[str | None, Callable[..., Any]]]:
    """Every URL pattern reachable from ``patterns``: (its full URL name or None, its view)."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespaces + ((pattern.namespace,) if pattern.namespace else ())
            yield from _walk(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            name = ":".join((*namespaces, pattern.name)) if pattern.name else None
            yield name, pattern.callback


def _views_for(key: str, where: str) -> list[Callable[..., Any]]:
    """The views ``key`` stands for in ROOT_URLCONF: a path's view, or a URL name's views."""
    resolver = get_resolver()
    if key.startswith("/"):
        for code in _languages():
            with translation.override(code):
                try:
                    return [resolver.resolve(key).func]
                except Resolver404:
                    continue
        raise ConfigurationError(
            f"{where}: the path does not resolve to a view in settings.ROOT_URLCONF. Use the "
            "path a request has (request.path_info, with its trailing slash), or the view's "
            "URL name ('app:name') as the key."
        )
    views = [view for name, view in _walk(resolver.url_patterns) if name == key]
    if not views:
        raise ConfigurationError(
            f"{where}: no URL pattern in settings.ROOT_URLCONF has this name. Use the view's "
            "URL name with its namespace ('app:name'), or a path starting with '/'."
        )
    return views


def _view_identity(view: object) -> object:
    """What a view *is*, whichever wrapper a URL pattern holds.

    Every ``as_view()`` call and every decorator applied in ``urls.py`` (``csrf_exempt(...)``)
    makes a new function; comparing those would leave the other routes to the same view
    unverified. The innermost callable of the ``__wrapped__`` chain is the view; for a
    class-based view, its class.
    """
    seen = 0
    while seen < 64:  # a chain that long is a loop, not a view
        view_class = getattr(view, "view_class", None)
        if isinstance(view_class, type):
            return view_class
        inner = getattr(view, "__wrapped__", None)
        if inner is None or inner is view:
            return view
        view = inner
        seen += 1
    return view


def _protected_views(targets: Mapping[str, Verifier]) -> dict[int, tuple[object, Verifier]]:
    """Map each protected view (by identity) to its verifier; refuse ambiguous settings."""
    views: dict[int, tuple[object, Verifier]] = {}
    keys: dict[int, str] = {}
    for key, verifier in targets.items():
        where = f"settings.HOOKSEAL[{key!r}]"
        for view in _views_for(key, where):
            if getattr(view, _VIEW_MARK, None) is not None:
                raise ConfigurationError(
                    f"{where} names a view already decorated with @verify_webhook: each "
                    "delivery would be verified twice and the second check would refuse it "
                    "as a replay. Remove the key or the decorator."
                )
            identity = _view_identity(view)
            known = views.get(id(identity))
            if known is not None and known[1] is not verifier:
                raise ConfigurationError(
                    f"{where} and settings.HOOKSEAL[{keys[id(identity)]!r}] name the same view "
                    "with different verifiers. Give each sender its own view (or use "
                    "@verify_webhook)."
                )
            views[id(identity)] = (identity, verifier)
            keys[id(identity)] = key
    return views


def _check_order(middleware: type) -> None:
    """Refuse a MIDDLEWARE list where CsrfViewMiddleware comes before WebhookMiddleware."""
    entries = list(getattr(settings, "MIDDLEWARE", None) or ())
    loaded: list[object] = []
    for entry in entries:
        try:
            loaded.append(import_string(entry) if isinstance(entry, str) else entry)
        except ImportError:  # Django itself reports a wrong entry
            loaded.append(None)
    ours = [
        i for i, cls in enumerate(loaded) if isinstance(cls, type) and issubclass(cls, middleware)
    ]
    if not ours:
        return
    for entry, cls in zip(entries[: ours[0]], loaded[: ours[0]], strict=True):
        if isinstance(cls, type) and issubclass(cls, CsrfViewMiddleware):
            raise ConfigurationError(
                f"settings.MIDDLEWARE lists {entry!r} before "
                "'hookseal.contrib.django.WebhookMiddleware': CSRF checks would run before "
                "the signature check and refuse genuine deliveries. List WebhookMiddleware "
                "before CsrfViewMiddleware; verified deliveries are then exempt from CSRF "
                "checks, every other request is still checked."
            )


class WebhookMiddleware:
    """Verify deliveries to the views named in ``settings.HOOKSEAL`` before they run.

    The protected thing is the view, not one spelling of its URL: the middleware decides in
    ``process_view``, with the view Django resolved for the request, so every URL that routes
    to a protected view is verified (``i18n_patterns`` language prefixes, optional parts of a
    ``re_path``, ``include()`` prefixes, percent-encoded paths, per-request URLconfs that
    route to the same view function).

    Settings:

    * ``HOOKSEAL``: ``{"webhooks:github": "myproject.webhooks.github_verifier", ...}``. Keys
      are URL names (with their namespace), which protect every pattern of that name, or
      paths starting with ``/`` (``"/hooks/github/"``), which are resolved once, at startup,
      to the view they route to. Values are :class:`~hookseal.Verifier` objects or dotted
      paths to them;
    * ``HOOKSEAL_REPLAY_STATUS``: the status answered to a replay (default 409);
    * ``HOOKSEAL_ON_REJECT``: an ``on_reject(request, error)`` callable or its dotted path;
    * ``HOOKSEAL_RELEASE_ON_ERROR``: when the response is 5xx (Django turns a view's
      exception into a 500 before the middleware sees it), forget the delivery's replay record
      so that the sender's retry is accepted (default True, bounded by the verifier's
      ``max_releases``; see :meth:`~hookseal.Verifier.release`);
    * ``HOOKSEAL_PUBLIC_URL``: the public base URL the senders address, for schemes that sign
      the URL (Twilio, RFC 9421); optional when ``ALLOWED_HOSTS`` lists exact hosts only.

    List it before ``django.middleware.csrf.CsrfViewMiddleware``: verified requests are then
    exempt from CSRF checks (their signature authenticates them), so the protected views need
    no ``@csrf_exempt``. Works in sync and async stacks.

    Raises:
        ConfigurationError: when Django loads the middleware, for any configuration mistake:
            a key that resolves to no view, a view also decorated with ``@verify_webhook``, one
            view with two verifiers, ``CsrfViewMiddleware`` listed first, a URL-signing scheme
            without a trusted origin.
    """

    sync_capable = True
    async_capable = True
    #: Django calls this with the resolved view before the view runs (set per instance:
    #: the coroutine form in an async stack).
    process_view: Callable[..., Any]

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.replay_status = check_replay_status(getattr(settings, "HOOKSEAL_REPLAY_STATUS", 409))
        hook = _load(getattr(settings, "HOOKSEAL_ON_REJECT", None), "settings.HOOKSEAL_ON_REJECT")
        self.on_reject = check_on_reject(hook)
        self.release_on_error = check_release_on_error(
            getattr(settings, "HOOKSEAL_RELEASE_ON_ERROR", True)
        )
        self.public_url = check_public_url(
            getattr(settings, "HOOKSEAL_PUBLIC_URL", None), "settings.HOOKSEAL_PUBLIC_URL"
        )
        targets = _targets_from_settings()
        for key, verifier in targets.items():
            _check_origin(verifier, self.public_url, f"settings.HOOKSEAL[{key!r}]")
        _check_order(WebhookMiddleware)
        self._routes: Mapping[str, Verifier] = MappingProxyType(targets)
        self._views = _protected_views(targets)
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)
            self.process_view = self._aprocess_view
        else:
            self.process_view = self._process_view

    @property
    def routes(self) -> Mapping[str, Verifier]:
        """``settings.HOOKSEAL`` as loaded: keys mapped to verifiers (read-only)."""
        return self._routes

    def _verifier_for(self, view: object) -> Verifier | None:
        identity = _view_identity(view)
        entry = self._views.get(id(identity))
        return entry[1] if entry is not None and entry[0] is identity else None

    def _process_view(
        self, request: HttpRequest, view: object, args: object, kwargs: object
    ) -> HttpResponse | None:
        verifier = self._verifier_for(view)
        if verifier is None:
            return None
        rejection = verify_request(
            request, verifier, self.replay_status, self.on_reject, self.public_url
        )
        if rejection is None:
            request._hookseal_verifier = verifier
        return rejection

    async def _aprocess_view(
        self, request: HttpRequest, view: object, args: object, kwargs: object
    ) -> HttpResponse | None:
        verifier = self._verifier_for(view)
        if verifier is None:
            return None
        rejection = await averify_request(
            request, verifier, self.replay_status, self.on_reject, self.public_url
        )
        if rejection is None:
            request._hookseal_verifier = verifier
        return rejection

    def __call__(self, request: HttpRequest) -> Any:
        """Hand the request on (verification happens in ``process_view``); maybe release."""
        if self._async:
            return self.__acall__(request)
        if not self.release_on_error:
            return self.get_response(request)
        try:
            response = self.get_response(request)
        except Exception as exc:  # only when DEBUG_PROPAGATE_EXCEPTIONS is set
            verifier = getattr(request, "_hookseal_verifier", None)
            if verifier is not None:
                _release_if_failed(verifier, request.webhook, None, exc)
            raise
        verifier = getattr(request, "_hookseal_verifier", None)
        if verifier is not None:
            _release_if_failed(verifier, request.webhook, response, None)
        return response

    async def __acall__(self, request: HttpRequest) -> Any:
        """The asynchronous path."""
        if not self.release_on_error:
            return await self.get_response(request)
        try:
            response = await self.get_response(request)
        except Exception as exc:  # only when DEBUG_PROPAGATE_EXCEPTIONS is set
            verifier = getattr(request, "_hookseal_verifier", None)
            if verifier is not None:
                await _arelease_if_failed(verifier, request.webhook, None, exc)
            raise
        verifier = getattr(request, "_hookseal_verifier", None)
        if verifier is not None:
            await _arelease_if_failed(verifier, request.webhook, response, None)
        return response


#: Names this module exported before 0.2, mapped to their replacements (removed in 0.3).
_DEPRECATED: dict[str, tuple[str, Any]] = {
    "webhook_view": ("use @verify_webhook(verifier) (the same decorator)", verify_webhook),
    "HookSealMiddleware": (
        "use WebhookMiddleware (the same class): list "
        "'hookseal.contrib.django.WebhookMiddleware' in settings.MIDDLEWARE",
        WebhookMiddleware,
    ),
}


def __getattr__(name: str) -> Any:
    """Serve a deprecated name, with a ``DeprecationWarning`` saying what replaces it."""
    entry = _DEPRECATED.get(name)
    if entry is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    instead, value = entry
    warnings.warn(
        f"hookseal.contrib.django.{name} is deprecated and will be removed in 0.3: {instead}.",
        DeprecationWarning,
        stacklevel=2,
    )
    return value
