"""The one provider registry: every scheme hookseal ships, by name, with what the tools need.

Adding a provider means writing its scheme module and adding one :class:`Provider` row here:
``hookseal.schemes`` exports the class lazily from it, the command line and
:func:`hookseal.testing.signed_delivery` accept its names, ``hookseal explain`` recognises its
headers, and the docs catalog table is generated from it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._errors import ConfigurationError

if TYPE_CHECKING:
    from .base import Scheme

__all__ = [
    "PROVIDERS",
    "Provider",
    "buildable_names",
    "by_name",
    "load_class",
    "providers_sending",
    "scheme_by_name",
]


@dataclass(frozen=True)
class Provider:
    """One row of the registry.

    Attributes:
        name: the name the command line and the test helpers take (lowercase, hyphenated).
        module: the module under ``hookseal.schemes`` that defines the class.
        cls: the scheme class's name, exported by ``hookseal.schemes``.
        aliases: other names for the same scheme (senders that use it, old names).
        headers: the headers that identify the provider's deliveries (``explain`` uses them).
        family: the docs page under ``docs/providers/`` that documents it.
        docs: the provider's own documentation of its signatures.
        algorithm: what is signed and how, in a few words (the docs catalog shows it).
        window: the timestamp window the provider documents, or None without a signed time.
        replay: what identifies a delivery in the nonce store.
        handshake: the endpoint verification the provider runs before sending, if any.
        tested: what the tests check the scheme against.
        builds_alone: whether the class builds with no arguments (generic schemes need some).
    """

    name: str
    module: str
    cls: str
    aliases: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    family: str = ""
    docs: str = ""
    algorithm: str = ""
    window: str | None = None
    replay: str = ""
    handshake: str | None = None
    tested: str = ""
    builds_alone: bool = True


PROVIDERS: tuple[Provider, ...] = (
    Provider(
        name="standard-webhooks",
        module="standard_webhooks",
        cls="StandardWebhooks",
        aliases=("svix",),
        headers=("webhook-signature", "svix-signature"),
        family="standard-webhooks",
        docs="https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md",
        algorithm="HMAC-SHA256 (base64) of id.timestamp.body; Ed25519 (v1a)",
        window="5 minutes",
        replay="every configured key's MAC of id.timestamp.body",
        tested="spec vectors; standardwebhooks and svix SDKs (differential)",
    ),
    Provider(
        name="github",
        module="github",
        cls="GitHub",
        headers=("x-hub-signature-256", "x-hub-signature"),
        family="github",
        docs="https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries",
        algorithm="HMAC-SHA256 (hex) of the body",
        replay="every configured key's MAC of the body",
        tested="docs vector; derived negatives",
    ),
    Provider(
        name="stripe",
        module="stripe",
        cls="Stripe",
        headers=("stripe-signature",),
        family="stripe",
        docs="https://docs.stripe.com/webhooks#verify-manually",
        algorithm="HMAC-SHA256 (hex) of timestamp.body",
        window="5 minutes",
        replay="every configured key's MAC of timestamp.body",
        tested="stripe SDK (differential)",
    ),
    Provider(
        name="slack",
        module="slack",
        cls="Slack",
        headers=("x-slack-signature",),
        family="slack",
        docs="https://docs.slack.dev/authentication/verifying-requests-from-slack/",
        algorithm="HMAC-SHA256 (hex) of v0:timestamp:body",
        window="5 minutes",
        replay="every configured key's MAC of v0:timestamp:body",
        handshake="url_verification challenge (signed)",
        tested="docs vector; slack_sdk (differential)",
    ),
    Provider(
        name="shopify",
        module="shopify",
        cls="Shopify",
        headers=("x-shopify-hmac-sha256",),
        family="shopify",
        docs="https://shopify.dev/docs/apps/build/webhooks/subscribe/https",
        algorithm="HMAC-SHA256 (base64) of the body",
        replay="every configured key's MAC of the body",
        tested="third-party vector (SQLPage); GitHub's published inputs in base64",
    ),
    Provider(
        name="twilio",
        module="twilio",
        cls="Twilio",
        headers=("x-twilio-signature",),
        family="twilio",
        docs="https://www.twilio.com/docs/usage/webhooks/webhooks-security",
        algorithm="HMAC-SHA1 (base64) of the URL and sorted form parameters, or bodySHA256",
        replay="the signature sent",
        tested="docs vectors; twilio SDK (differential)",
    ),
    Provider(
        name="discord",
        module="discord",
        cls="Discord",
        headers=("x-signature-ed25519",),
        family="discord",
        docs="https://discord.com/developers/docs/interactions/overview",
        algorithm="Ed25519 of timestamp + body",
        window="5 minutes (hookseal's choice; Discord documents none)",
        replay="the signature sent",
        handshake="PING interaction (signed)",
        tested="no published vector: Ed25519 computed with cryptography (derived)",
    ),
    Provider(
        name="paddle",
        module="paddle",
        cls="Paddle",
        headers=("paddle-signature",),
        family="paddle",
        docs="https://developer.paddle.com/webhooks/signature-verification",
        algorithm="HMAC-SHA256 (hex) of timestamp:body",
        window="5 seconds (Paddle's SDK default)",
        replay="every configured key's MAC of timestamp:body",
        tested="paddle-python-sdk (differential)",
    ),
    Provider(
        name="workos",
        module="workos",
        cls="WorkOS",
        headers=("workos-signature",),
        family="workos",
        docs="https://workos.com/docs/events/data-syncing/webhooks",
        algorithm="HMAC-SHA256 (hex) of timestamp.body (milliseconds)",
        window="3 minutes (WorkOS's SDK default)",
        replay="every configured key's MAC of timestamp.body",
        tested="workos SDK (differential)",
    ),
    Provider(
        name="gitlab",
        module="shared_token",
        cls="GitLab",
        headers=("x-gitlab-token",),
        family="shared-tokens",
        docs="https://docs.gitlab.com/user/project/integrations/webhooks/",
        algorithm="shared token in X-Gitlab-Token (no signature)",
        replay="none (a shared token signs nothing)",
        tested="derived from the documented format",
    ),
    Provider(
        name="shared-token",
        module="shared_token",
        cls="SharedToken",
        family="shared-tokens",
        algorithm="a shared token in a header you name (no signature)",
        replay="none (a shared token signs nothing)",
        tested="derived",
        builds_alone=False,
    ),
    Provider(
        name="hmac",
        module="generic_hmac",
        cls="HMACScheme",
        family="generic-hmac",
        algorithm="HMAC of a template over id, timestamp and body, in a header you name",
        replay="every configured key's MAC of the signed bytes",
        tested="derived",
        builds_alone=False,
    ),
    Provider(
        name="rfc9421",
        module="http_message_signatures",
        cls="HTTPMessageSignatures",
        headers=("signature-input",),
        family="rfc9421",
        docs="https://www.rfc-editor.org/rfc/rfc9421",
        algorithm="RFC 9421 HTTP Message Signatures (Ed25519, ECDSA, RSA, HMAC)",
        window="configurable (created/expires)",
        replay="key fingerprint with the nonce, or the signature base",
        tested="RFC 9421 appendix B vectors; http-message-signatures (differential)",
        builds_alone=False,
    ),
)


_BY_NAME: dict[str, Provider] = {}
for _row in PROVIDERS:
    for _name in (_row.name, *_row.aliases):
        if _name in _BY_NAME:  # pragma: no cover - a registry edit mistake, caught by tests
            raise RuntimeError(f"provider name {_name!r} appears twice in the registry")
        _BY_NAME[_name] = _row
del _row, _name


def load_class(provider: Provider) -> type[Scheme]:
    """Import and return the scheme class of ``provider``."""
    module = importlib.import_module(f"hookseal.schemes.{provider.module}")
    scheme_class: type[Scheme] = getattr(module, provider.cls)
    return scheme_class


def by_name(name: str) -> Provider:
    """The registry row called ``name`` (or one of its aliases), case-insensitively.

    Raises:
        ConfigurationError: no provider has that name (the message lists the known names).
    """
    row = _BY_NAME.get(name.lower())
    if row is None:
        known = ", ".join(sorted(_BY_NAME))
        raise ConfigurationError(f"Unknown scheme {name!r}; choose one of: {known}.")
    return row


def scheme_by_name(name: str) -> Scheme:
    """Build the provider scheme called ``name`` with its default settings.

    Raises:
        ConfigurationError: no provider has that name, or its scheme needs arguments
            (``hmac``, ``shared-token``, ``rfc9421``: build those in code).
    """
    row = by_name(name)
    if not row.builds_alone:
        raise ConfigurationError(
            f"The {row.name!r} scheme needs arguments (header names, keys): build "
            f"hookseal.schemes.{row.cls}(...) in code instead of naming it."
        )
    return load_class(row)()


def buildable_names() -> list[str]:
    """Every name (and alias) :func:`scheme_by_name` builds, sorted."""
    return sorted(name for name, row in _BY_NAME.items() if row.builds_alone)


def providers_sending(header: str) -> tuple[Provider, ...]:
    """Every provider whose deliveries carry ``header`` (case-insensitive)."""
    lower = header.lower()
    return tuple(row for row in PROVIDERS if lower in row.headers)
