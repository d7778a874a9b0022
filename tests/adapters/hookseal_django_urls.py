"""The Django URLconf, views and verifiers used by the adapter tests."""

from __future__ import annotations

from typing import Any

from adapter_support import forbidding_verifier, make_verifier
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from hookseal import VerificationError, Verified
from hookseal.contrib.django import DjangoCacheNonceStore, get_webhook, verify_webhook

CALLS: list[Any] = []
REJECTED: list[Any] = []

VERIFIER = make_verifier()
MIDDLEWARE_VERIFIER = make_verifier()
# LocMemCache culls live entries: accepted only with the explicit opt-in (one test process).
CACHE_VERIFIER = make_verifier(nonce_store=DjangoCacheNonceStore("default", allow_eviction=True))


def record_rejection(request: HttpRequest, error: VerificationError) -> None:
    REJECTED.append((request.path, error.reason))


def _answer(request: HttpRequest) -> HttpResponse:
    webhook = get_webhook(request)
    assert isinstance(webhook, Verified)
    assert webhook is request.webhook  # type: ignore[attr-defined]
    again = request.body
    assert again == webhook.body  # the handler re-reads the exact verified bytes
    assert request.read() == webhook.body
    CALLS.append(webhook.msg_id)
    return HttpResponse(again, content_type="application/octet-stream")


@verify_webhook(VERIFIER, on_reject=record_rejection)
def sync_view(request: HttpRequest) -> HttpResponse:
    return _answer(request)


@verify_webhook(VERIFIER, on_reject=record_rejection)
async def async_view(request: HttpRequest) -> HttpResponse:
    return _answer(request)


@verify_webhook(forbidding_verifier(), on_reject=record_rejection)
def forbidden_view(request: HttpRequest) -> HttpResponse:
    return _answer(request)


@verify_webhook(make_verifier(), replay_status=200)
def replay_200_view(request: HttpRequest) -> HttpResponse:
    return _answer(request)


@verify_webhook(CACHE_VERIFIER)
async def cache_async_view(request: HttpRequest) -> HttpResponse:
    return _answer(request)


@verify_webhook(CACHE_VERIFIER)
def cache_sync_view(request: HttpRequest) -> HttpResponse:
    return _answer(request)


def post_first_view(request: HttpRequest) -> HttpResponse:
    request.POST.get("anything")  # a multipart parse consumes the stream (row 29)
    return verify_webhook(make_verifier())(_answer)(request)


@csrf_exempt
def middleware_sync_view(request: HttpRequest) -> HttpResponse:
    return _answer(request)


@csrf_exempt
async def middleware_async_view(request: HttpRequest) -> HttpResponse:
    return _answer(request)


def plain_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"plain")


@csrf_exempt
def unprotected_view(request: HttpRequest) -> HttpResponse:
    """Not protected: get_webhook must refuse to hand out a delivery."""
    try:
        get_webhook(request)
    except LookupError as exc:
        return HttpResponse(str(exc), status=418, content_type="text/plain")
    return HttpResponse(b"verified?")  # pragma: no cover - the test fails if reached


# -- release on handler failure (test_release_on_error.py) ---------------------------------

#: What the failing views do next: "ok", "crash" (raise), "503", "404" (raise Http404) or
#: "400" (raise MultiPartParserError).
OUTCOME = {"next": "ok"}
RELEASE_VERIFIER = make_verifier()
KEEP_VERIFIER = make_verifier()
DEFAULT_VERIFIER = make_verifier()
MIDDLEWARE_RELEASE_VERIFIER = make_verifier()


def _outcome(request: HttpRequest) -> HttpResponse:
    CALLS.append(request.webhook.msg_id)  # type: ignore[attr-defined]
    outcome = OUTCOME["next"]
    if outcome == "crash":
        raise RuntimeError("the handler failed")
    if outcome == "404":
        raise Http404("no such order")
    if outcome == "400":
        raise MultiPartParserError("a malformed upload")
    return HttpResponse(b"done", status=503 if outcome == "503" else 200)


@verify_webhook(RELEASE_VERIFIER, release_on_error=True)
def release_sync_view(request: HttpRequest) -> HttpResponse:
    return _outcome(request)


@verify_webhook(RELEASE_VERIFIER, release_on_error=True)
async def release_async_view(request: HttpRequest) -> HttpResponse:
    return _outcome(request)


@verify_webhook(KEEP_VERIFIER, release_on_error=False)
def keep_view(request: HttpRequest) -> HttpResponse:
    return _outcome(request)


@verify_webhook(DEFAULT_VERIFIER)  # release_on_error is on by default
def default_release_view(request: HttpRequest) -> HttpResponse:
    return _outcome(request)


@csrf_exempt
def middleware_release_sync_view(request: HttpRequest) -> HttpResponse:
    return _outcome(request)


@csrf_exempt
async def middleware_release_async_view(request: HttpRequest) -> HttpResponse:
    return _outcome(request)


urlpatterns = [
    path("sync", sync_view),
    path("async", async_view),
    path("forbidden", forbidden_view),
    path("replay-200", replay_200_view),
    path("cache-sync", cache_sync_view),
    path("cache-async", cache_async_view),
    path("post-first", csrf_exempt(post_first_view)),
    path("mw/sync", middleware_sync_view),
    path("mw/async", middleware_async_view),
    path("plain", plain_view),
    path("unprotected", unprotected_view),
    path("release/sync", release_sync_view),
    path("release/async", release_async_view),
    path("release/keep", keep_view),
    path("release/default", default_release_view),
    path("mw/release-sync", middleware_release_sync_view),
    path("mw/release-async", middleware_release_async_view),
]
