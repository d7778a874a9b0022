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
    from .airtable import Airtable as Airtable
    from .asana import Asana as Asana
    from .atlassian import Bitbucket as Bitbucket
    from .atlassian import Jira as Jira
    from .aws_sns import AmazonSNS as AmazonSNS
    from .box import Box as Box
    from .checkout import CheckoutCom as CheckoutCom
    from .coinbase_commerce import CoinbaseCommerce as CoinbaseCommerce
    from .discord import Discord as Discord
    from .docusign import DocuSignConnect as DocuSignConnect
    from .dropbox import Dropbox as Dropbox
    from .gcp_pubsub import GooglePubSub as GooglePubSub
    from .gitea import Gitea as Gitea
    from .github import GitHub as GitHub
    from .gocardless import GoCardless as GoCardless
    from .http_message_signatures import HTTPMessageSignatures as HTTPMessageSignatures
    from .hubspot import HubSpot as HubSpot
    from .hubspot import HubSpotV2 as HubSpotV2
    from .intercom import Intercom as Intercom
    from .intuit import QuickBooks as QuickBooks
    from .lemon_squeezy import LemonSqueezy as LemonSqueezy
    from .line import Line as Line
    from .linear import Linear as Linear
    from .mailgun import Mailgun as Mailgun
    from .meta import Meta as Meta
    from .microsoft_graph import MicrosoftGraph as MicrosoftGraph
    from .paddle import Paddle as Paddle
    from .pagerduty import PagerDuty as PagerDuty
    from .paystack import Paystack as Paystack
    from .razorpay import Razorpay as Razorpay
    from .recurly import Recurly as Recurly
    from .segment import Segment as Segment
    from .sendgrid import SendGrid as SendGrid
    from .sentry import Sentry as Sentry
    from .shared_token import GitLab as GitLab
    from .shared_token import SharedToken as SharedToken
    from .shopify import Shopify as Shopify
    from .slack import Slack as Slack
    from .square import Square as Square
    from .standard_webhooks import StandardWebhooks as StandardWebhooks
    from .stripe import Stripe as Stripe
    from .stripe_style import Calendly as Calendly
    from .stripe_style import Mux as Mux
    from .stripe_style import Persona as Persona
    from .stripe_style import Sanity as Sanity
    from .teams import MicrosoftTeams as MicrosoftTeams
    from .token_senders import BasicAuth as BasicAuth
    from .token_senders import Flutterwave as Flutterwave
    from .token_senders import OktaEventHook as OktaEventHook
    from .token_senders import Telegram as Telegram
    from .trello import Trello as Trello
    from .twilio import Twilio as Twilio
    from .twitch import Twitch as Twitch
    from .typeform import Typeform as Typeform
    from .vercel import Vercel as Vercel
    from .workos import WorkOS as WorkOS
    from .xero import Xero as Xero
    from .zendesk import Zendesk as Zendesk
    from .zoom import Zoom as Zoom


__all__ = [
    "Airtable",
    "AmazonSNS",
    "Asana",
    "BasicAuth",
    "Bitbucket",
    "Box",
    "Calendly",
    "CheckoutCom",
    "CoinbaseCommerce",
    "Discord",
    "DocuSignConnect",
    "Dropbox",
    "Flutterwave",
    "GitHub",
    "GitLab",
    "Gitea",
    "GoCardless",
    "GooglePubSub",
    "HMACScheme",
    "HTTPMessageSignatures",
    "HubSpot",
    "HubSpotV2",
    "Intercom",
    "Jira",
    "LemonSqueezy",
    "Line",
    "Linear",
    "Mailgun",
    "Meta",
    "MicrosoftGraph",
    "MicrosoftTeams",
    "Mux",
    "OktaEventHook",
    "Paddle",
    "PagerDuty",
    "Paystack",
    "Persona",
    "QuickBooks",
    "Razorpay",
    "Recurly",
    "Sanity",
    "Scheme",
    "Segment",
    "SendGrid",
    "Sentry",
    "SharedToken",
    "Shopify",
    "Slack",
    "Square",
    "StandardWebhooks",
    "Stripe",
    "Telegram",
    "Trello",
    "Twilio",
    "Twitch",
    "Typeform",
    "Vercel",
    "WorkOS",
    "Xero",
    "Zendesk",
    "Zoom",
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
