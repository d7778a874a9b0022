"""An AWS Lambda handler for GitHub webhooks behind a function URL or API Gateway.

Deploy ``lambda_handler`` with ``GITHUB_WEBHOOK_SECRET`` and ``REDIS_URL`` set (replay
protection needs a store every execution environment shares). Run locally,
``python examples/lambda_handler.py`` invokes it with a signed delivery, a replay, a forgery and
a binary body the way a function URL would, and checks each verdict.
"""

from __future__ import annotations

import base64
import os
import sys
from typing import Any

from hookseal import Signer, Verifier
from hookseal.contrib.aws_lambda import get_webhook, verify_webhook
from hookseal.schemes import GitHub

SECRET = os.environ.get("GITHUB_WEBHOOK_SECRET", "It's a Secret to Everybody")


def _store_options() -> dict[str, Any]:
    """Redis when configured (what a deployment needs); else the per-process default store,
    which protects one execution environment only (fine for this local run)."""
    url = os.environ.get("REDIS_URL")
    if not url:
        return {}
    from hookseal.stores.redis import RedisNonceStore

    return {"nonce_store": RedisNonceStore.from_url(url)}


# Built once per execution environment (at import), reused by every invocation it serves.
verifier = Verifier(GitHub(), SECRET, **_store_options())


@verify_webhook(verifier)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The function's handler: runs only for verified deliveries."""
    webhook = get_webhook(event)
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    print("accepted", headers.get("x-github-event"), len(webhook.body), "bytes")
    return {"statusCode": 204}


def _function_url_event(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """What a Lambda function URL hands the function for a POST (trimmed)."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {name.lower(): value for name, value in headers.items()},
        "requestContext": {"http": {"method": "POST", "path": "/", "sourceIp": "192.0.2.10"}},
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }


def main() -> int:
    """Invoke the handler as Lambda would and check each verdict."""
    signer = Signer(GitHub(), SECRET)
    body = b'{"action": "opened", "number": 1}'
    headers = {**signer.sign(body), "X-GitHub-Event": "pull_request"}
    binary = b'{"note": "\xff\xfe not UTF-8"}'
    forged = {**Signer(GitHub(), "not-the-secret").sign(body), "X-GitHub-Event": "push"}
    cases = [
        ("genuine", _function_url_event(body, headers), 204),
        ("replayed", _function_url_event(body, headers), 409),
        ("forged", _function_url_event(body, forged), 401),
        ("binary body", _function_url_event(binary, signer.sign(binary)), 204),
    ]
    ok = True
    for name, event, expected in cases:
        status = lambda_handler(event, None)["statusCode"]
        ok &= status == expected
        print(f"{name:12} -> {status} (expected {expected})")
    print("every verdict was the expected one" if ok else "UNEXPECTED VERDICT")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
