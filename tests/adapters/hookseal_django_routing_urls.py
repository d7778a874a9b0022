"""A Django URLconf with the routing shapes users deploy, for WebhookMiddleware's tests.

One view behind ``i18n_patterns(prefix_default_language=False)``, one behind an
optional-slash ``re_path``, one included under two prefixes, plus views for the CSRF and
URL-signing tests. Views record every call, verified or not: a forged delivery that reaches
one shows up in ``CALLS`` with ``None``.
"""

from __future__ import annotations

from typing import Any

from adapter_support import make_verifier
from django.conf.urls.i18n import i18n_patterns
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, re_path
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from hookseal import Verifier
from hookseal.contrib.django import verify_webhook
from hookseal.schemes import Twilio
from hookseal.stores.memory import MemoryNonceStore

CALLS: list[tuple[str, Any]] = []

GITHUB = make_verifier()
STRIPE = make_verifier()
SHOP = make_verifier()
BILLING = make_verifier()
PLAIN = make_verifier()
DECORATED = make_verifier()
CBV = make_verifier()
TWILIO_TOKEN = "hookseal-django-twilio-token"
TWILIO = Verifier(Twilio(), TWILIO_TOKEN, nonce_store=MemoryNonceStore())


def _record(name: str, request: HttpRequest) -> HttpResponse:
    webhook = getattr(request, "webhook", None)
    CALLS.append((name, webhook.msg_id if webhook is not None else None))
    if webhook is not None:
        assert request.body == webhook.body
    return HttpResponse(b"reached " + name.encode())


# CSRF-exempt, as the middleware used to require: the routing tests see hookseal alone.
@csrf_exempt
def github_hook(request: HttpRequest) -> HttpResponse:
    return _record("github", request)


@csrf_exempt
def stripe_hook(request: HttpRequest) -> HttpResponse:
    return _record("stripe", request)


@csrf_exempt
def shop_hook(request: HttpRequest) -> HttpResponse:
    return _record("shop", request)


# Not CSRF-exempt: WebhookMiddleware exempts the requests it verified.
def billing_hook(request: HttpRequest) -> HttpResponse:
    return _record("billing", request)


def plain_hook(request: HttpRequest) -> HttpResponse:
    return _record("plain", request)


def unprotected(request: HttpRequest) -> HttpResponse:
    return _record("unprotected", request)


@verify_webhook(DECORATED)
@csrf_protect  # below the decorator: runs after verification, must not refuse the delivery
def decorated_hook(request: HttpRequest) -> HttpResponse:
    return _record("decorated", request)


def twilio_hook(request: HttpRequest) -> HttpResponse:
    return _record("twilio", request)


shop_patterns = [path("hooks/shop/", shop_hook, name="shop")]

class CbvHook(View):
    """A class-based view: every as_view() call makes a new function for the same view."""

    def post(self, request: HttpRequest) -> HttpResponse:
        return _record("cbv", request)


urlpatterns = [
    re_path(r"^api/hooks/stripe/?$", stripe_hook),
    path("cbv/hook/", csrf_exempt(CbvHook.as_view())),
    path("legacy/cbv/", csrf_exempt(CbvHook.as_view())),  # the same view, another function
    path("legacy/github/", csrf_exempt(github_hook)),  # the same view, wrapped once more
    path("v1/", include((shop_patterns, "shop"), namespace="v1")),
    path("v2/", include((shop_patterns, "shop"), namespace="v2")),
    path("plain/", plain_hook, name="plain"),
    path("hooks/billing/", billing_hook, name="billing"),
    path("unprotected/", unprotected),
    path("decorated/", decorated_hook, name="decorated"),
    path("hooks/sms/", twilio_hook, name="sms"),
    *i18n_patterns(
        path("hooks/github/", github_hook, name="github"), prefix_default_language=False
    ),
]
