"""The provider names the command line and the test helpers accept, mapped to scheme classes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._errors import ConfigurationError

if TYPE_CHECKING:
    from .schemes.base import Scheme

__all__ = ["SCHEME_NAMES", "scheme_by_name"]

#: Command-line name -> class name exported by :mod:`hookseal.schemes`.
SCHEME_NAMES: dict[str, str] = {
    "standard-webhooks": "StandardWebhooks",
    "svix": "StandardWebhooks",
    "github": "GitHub",
    "stripe": "Stripe",
    "slack": "Slack",
    "shopify": "Shopify",
    "twilio": "Twilio",
    "discord": "Discord",
    "paddle": "Paddle",
    "workos": "WorkOS",
    "gitlab": "GitLab",
}


def scheme_by_name(name: str) -> Scheme:
    """Build the provider scheme called ``name`` with its default settings."""
    from . import schemes

    try:
        class_name = SCHEME_NAMES[name.lower()]
    except KeyError:
        known = ", ".join(sorted(SCHEME_NAMES))
        raise ConfigurationError(f"Unknown scheme {name!r}; choose one of: {known}.") from None
    scheme: Scheme = getattr(schemes, class_name)()
    return scheme
