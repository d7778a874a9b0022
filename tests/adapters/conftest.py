"""Adapter tests: Django settings (configured once, before any Django import is used)."""

from __future__ import annotations

import django
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="hookseal-tests-only",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF="hookseal_django_urls",
        USE_TZ=True,
        INSTALLED_APPS=[],
        MIDDLEWARE=[
            # Before CsrfViewMiddleware: verified deliveries are exempt from CSRF checks.
            "hookseal.contrib.django.WebhookMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
        ],
        HOOKSEAL={
            "/mw/sync": "hookseal_django_urls.MIDDLEWARE_VERIFIER",
            "/mw/async": "hookseal_django_urls.MIDDLEWARE_VERIFIER",
            "/mw/release-sync": "hookseal_django_urls.MIDDLEWARE_RELEASE_VERIFIER",
            "/mw/release-async": "hookseal_django_urls.MIDDLEWARE_RELEASE_VERIFIER",
        },
        HOOKSEAL_ON_REJECT="hookseal_django_urls.record_rejection",
        HOOKSEAL_RELEASE_ON_ERROR=True,
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        },
        LOGGING_CONFIG=None,
    )
    django.setup()
