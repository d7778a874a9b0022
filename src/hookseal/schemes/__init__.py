"""Signing schemes: one module per provider, all used through Verifier and Signer.

Scheme classes are imported on first use, so ``import hookseal.schemes`` stays cheap and a
scheme needing an optional dependency (RFC 9421 needs ``http-sf``) only requires it when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._registry import PROVIDERS, load_class
from .base import Scheme as Scheme
from .generic_hmac import HMACScheme as HMACScheme

if TYPE_CHECKING:  # pragma: no cover
    from .discord import Discord as Discord
    from .github import GitHub as GitHub
    from .http_message_signatures import HTTPMessageSignatures as HTTPMessageSignatures
    from .paddle import Paddle as Paddle
    from .shared_token import GitLab as GitLab
    from .shared_token import SharedToken as SharedToken
    from .shopify import Shopify as Shopify
    from .slack import Slack as Slack
    from .standard_webhooks import StandardWebhooks as StandardWebhooks
    from .stripe import Stripe as Stripe
    from .twilio import Twilio as Twilio
    from .workos import WorkOS as WorkOS


__all__ = [
    "Discord",
    "GitHub",
    "GitLab",
    "HMACScheme",
    "HTTPMessageSignatures",
    "Paddle",
    "Scheme",
    "SharedToken",
    "Shopify",
    "Slack",
    "StandardWebhooks",
    "Stripe",
    "Twilio",
    "WorkOS",
]


# Class name -> registry row: the one provider registry says where each class lives.
_LAZY = {row.cls: row for row in PROVIDERS}


def __getattr__(name: str) -> Any:
    row = _LAZY.get(name)
    if row is None:
        raise AttributeError(f"module 'hookseal.schemes' has no attribute {name!r}")
    value = load_class(row)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
