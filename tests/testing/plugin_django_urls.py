"""A minimal Django URLconf for the plugin's client-helper tests."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from hookseal import Verifier
from hookseal.contrib.django import verify_webhook
from hookseal.schemes import Slack
from hookseal.stores.memory import MemoryNonceStore

SECRET = "plugin-django-slack-signing-secret"
VERIFIER = Verifier(Slack(), SECRET, nonce_store=MemoryNonceStore())


@verify_webhook(VERIFIER)
def slack_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(request.webhook.body)  # type: ignore[attr-defined]


@verify_webhook(VERIFIER)
async def slack_async_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(request.webhook.body)  # type: ignore[attr-defined]


urlpatterns = [
    path("hooks/slack/", slack_view),
    path("hooks/slack-async/", slack_async_view),
]
