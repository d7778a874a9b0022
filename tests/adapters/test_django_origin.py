"""Schemes that sign the URL need a trusted origin under Django: public_url or exact hosts.

A delivery captured from another deployment (same Twilio account token, same path) names
that deployment's host; rebuilt from the request's Host header, its URL would verify here.
"""

from __future__ import annotations

from typing import Any

import hookseal_django_routing_urls as urls
import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from test_django_middleware import ROUTING, _raw_post, _serve_runserver

from hookseal import ConfigurationError
from hookseal.contrib.django import WebhookMiddleware, verify_webhook
from hookseal.testing import SignedDelivery, sign_delivery

pytestmark = pytest.mark.extras

FORM = "application/x-www-form-urlencoded"
PUBLIC = "https://hooks.example.com"
OTHER = "https://staging.example.net"
WILDCARD: dict[str, Any] = {"ALLOWED_HOSTS": ["*"]}
EXACT: dict[str, Any] = {"ALLOWED_HOSTS": ["hooks.example.com"]}


def twilio(base: str, body: bytes = b"Body=hi&From=%2B15550001") -> SignedDelivery:
    return sign_delivery(
        "twilio", urls.TWILIO_TOKEN, body, url=f"{base}/hooks/sms/", content_type=FORM
    )


def send(delivery: SignedDelivery, host: str, path: str = "/hooks/sms/") -> Any:
    headers = {k: v for k, v in delivery.all_headers().items() if k != "Content-Type"}
    return Client().generic(
        "POST",
        path,
        delivery.body,
        content_type=FORM,
        headers=headers,
        secure=True,
        HTTP_HOST=host,
    )


def _answer(request: HttpRequest) -> HttpResponse:
    assert request.body == request.webhook.body  # type: ignore[attr-defined]
    return HttpResponse(b"ok")


@pytest.mark.parametrize("hosts", [["*"], [".example.com"], ["hooks.example.com", "*"], []])
def test_verify_webhook_refuses_a_url_signing_scheme_without_a_trusted_origin(
    hosts: list[str],
) -> None:
    """Before: accepted, and another deployment's delivery verified with its own Host."""
    with (
        override_settings(ALLOWED_HOSTS=hosts),
        pytest.raises(ConfigurationError, match=r"public_url=.*ALLOWED_HOSTS"),
    ):
        verify_webhook(urls.TWILIO)


def test_public_url_is_the_origin_whatever_the_host_header() -> None:
    with override_settings(**WILDCARD):
        view = verify_webhook(urls.TWILIO, public_url=PUBLIC + "/")(_answer)
        with override_settings(**_only(view)):
            genuine = twilio(PUBLIC)
            assert send(genuine, "internal:8000").status_code == 200
            captured = twilio(OTHER, b"Body=elsewhere")
            assert send(captured, "staging.example.net").status_code == 401


def test_exact_allowed_hosts_are_a_trusted_origin() -> None:
    with override_settings(**EXACT):
        view = verify_webhook(urls.TWILIO)(_answer)
        with override_settings(**_only(view)):
            assert send(twilio(PUBLIC, b"Body=exact"), "hooks.example.com").status_code == 200
            captured = twilio(OTHER, b"Body=exact-elsewhere")
            assert send(captured, "staging.example.net").status_code == 400  # DisallowedHost


def test_the_origin_is_checked_again_on_each_request() -> None:
    with override_settings(**EXACT):
        view = verify_webhook(urls.TWILIO)(_answer)
    with (
        override_settings(**_only(view), **WILDCARD),
        pytest.raises(ConfigurationError, match="signs the request URL"),
    ):
        send(twilio(OTHER, b"Body=later"), "staging.example.net")


def test_middleware_refuses_a_url_signing_scheme_without_a_trusted_origin() -> None:
    settings = {**ROUTING, "HOOKSEAL": {"sms": urls.TWILIO}, **WILDCARD}
    with (
        override_settings(**settings),
        pytest.raises(ConfigurationError, match=r"settings.HOOKSEAL\['sms'\].*HOOKSEAL_PUBLIC_URL"),
    ):
        WebhookMiddleware(lambda request: None)


@pytest.mark.server
def test_middleware_with_public_url_under_a_real_server() -> None:
    settings = {**ROUTING, "HOOKSEAL": {"sms": urls.TWILIO}, "HOOKSEAL_PUBLIC_URL": PUBLIC}
    urls.CALLS.clear()
    with override_settings(**settings, **WILDCARD):
        for base in _serve_runserver():
            genuine = twilio(PUBLIC, b"Body=served")
            status, _ = _raw_post(base, "/hooks/sms/", _request(genuine))
            assert status == 200
            captured = twilio(OTHER, b"Body=served-elsewhere")
            status, _ = _raw_post(base, "/hooks/sms/", _request(captured, "staging.example.net"))
            assert status == 401
    assert [name for name, _ in urls.CALLS] == ["twilio"]
    urls.CALLS.clear()


def test_configuration_values() -> None:
    from hookseal.contrib._origin import exact_hosts

    assert exact_hosts(["hooks.example.com", "admin.example.com"])
    for hosts in (["*"], [".example.com"], [], "hooks.example.com", None, ["a", ""]):
        assert not exact_hosts(hosts)
    for bad in ("ftp://hooks.example.com", "https://hooks.example.com/?q=1", "hooks.example.com"):
        with pytest.raises(ConfigurationError, match="public_url"):
            verify_webhook(urls.TWILIO, public_url=bad)
    with (
        override_settings(**ROUTING, HOOKSEAL_PUBLIC_URL="nope"),
        pytest.raises(ConfigurationError, match="HOOKSEAL_PUBLIC_URL"),
    ):
        WebhookMiddleware(lambda request: None)


# -- helpers -----------------------------------------------------------------------------


def _urlconf(view: Any) -> Any:
    from django.urls import path

    class URLs:
        urlpatterns = [path("hooks/sms/", view)]  # noqa: RUF012 - Django reads a list

    return URLs


def _only(view: Any) -> dict[str, Any]:
    """Settings routing /hooks/sms/ to ``view`` alone, with no middleware."""
    return {"ROOT_URLCONF": _urlconf(view), "MIDDLEWARE": []}


def _request(delivery: SignedDelivery, host: str | None = None) -> Any:
    from adapter_support import Request

    headers = list(delivery.all_headers().items())
    if host is not None:
        headers.append(("Host", host))
    return Request(delivery.body, headers)
