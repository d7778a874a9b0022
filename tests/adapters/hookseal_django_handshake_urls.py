"""The URLconf of tests/adapters/test_adapter_handshakes.py: a view per provider, sync and async."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from handshake_support import CALLS, PROVIDERS, VERIFIERS

from hookseal.contrib.django import verify_webhook


def _views(provider: str) -> list[object]:
    # The decorator is applied per request: the tests put fresh verifiers in VERIFIERS.
    def handled(request: HttpRequest) -> HttpResponse:
        CALLS.append(provider)
        return HttpResponse(b"handled")

    async def ahandled(request: HttpRequest) -> HttpResponse:
        return handled(request)

    def sync_view(request: HttpRequest) -> HttpResponse:
        response: HttpResponse = verify_webhook(VERIFIERS[provider])(handled)(request)
        return response

    async def async_view(request: HttpRequest) -> HttpResponse:
        response: HttpResponse = await verify_webhook(VERIFIERS[provider])(ahandled)(request)
        return response

    sync_view.csrf_exempt = True  # type: ignore[attr-defined]
    async_view.csrf_exempt = True  # type: ignore[attr-defined]

    def plain_view(request: HttpRequest) -> HttpResponse:  # protected by WebhookMiddleware
        return handled(request)

    return [
        path(f"hooks/{provider}", sync_view),
        path(f"async/hooks/{provider}", async_view),
        path(f"mw/hooks/{provider}", plain_view),
    ]


urlpatterns = [pattern for provider in PROVIDERS for pattern in _views(provider)]
