"""A single-file Django receiver: ``@verify_webhook`` and ``WebhookMiddleware``.

Run (WSGI):  WEBHOOK_SECRET=whsec_... python examples/django_app.py runserver
Run (ASGI):  WEBHOOK_SECRET=whsec_... uvicorn examples.django_app:asgi_application
"""

from __future__ import annotations

import os
import sys

from django.conf import settings

SECRET = os.environ.get("WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "change-me"),
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[
            # Before CsrfViewMiddleware: a verified delivery is authenticated by its
            # signature, so hookseal exempts it from CSRF checks (and says so if misordered).
            "hookseal.contrib.django.WebhookMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
        ],
        # Paths (request.path_info) -> Verifier objects or their dotted paths.
        HOOKSEAL={"/hooks/billing/": f"{__name__}.billing_verifier"},
        HOOKSEAL_REPLAY_STATUS=409,
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    )

import django  # noqa: E402

django.setup()

from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402

from hookseal import Verifier  # noqa: E402
from hookseal.contrib.django import get_webhook, verify_webhook  # noqa: E402
from hookseal.schemes import StandardWebhooks  # noqa: E402

# With several workers, share the replay store: nonce_store=DjangoCacheNonceStore("default")
# on a Redis or Memcached cache (not LocMemCache, which is per process and culls entries).
svix_verifier = Verifier(StandardWebhooks(), SECRET)
billing_verifier = Verifier(StandardWebhooks(), SECRET)


@verify_webhook(svix_verifier)  # verified deliveries are exempt from CSRF checks
async def svix_hook(request: HttpRequest) -> HttpResponse:
    webhook = get_webhook(request)  # the Verified delivery (also request.webhook)
    event = webhook.json()
    print("accepted", webhook.msg_id, event.get("type"))
    return HttpResponse(status=204)


def billing_hook(request: HttpRequest) -> HttpResponse:
    assert request.body == get_webhook(request).body
    return HttpResponse(status=204)


urlpatterns = [
    path("hooks/svix/", svix_hook),
    path("hooks/billing/", billing_hook),
]

from django.core.asgi import get_asgi_application  # noqa: E402

asgi_application = get_asgi_application()

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
