"""Scheme profiles for the hostile-input suite: how each scheme signs, and where things sit.

A profile knows how to sign a genuine delivery for one scheme and where, in the headers that
result, the signature, the timestamp and the message id are, so that every row of the
bad-input checklist (``../shared/SECURITY.md``) can be applied to every scheme it concerns.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from hookseal import Signer
from hookseal.schemes import (
    Discord,
    GitHub,
    GitLab,
    HMACScheme,
    HTTPMessageSignatures,
    Paddle,
    Scheme,
    SharedToken,
    Shopify,
    Slack,
    StandardWebhooks,
    Stripe,
    Twilio,
    WorkOS,
)

NOW = 1_700_000_000
TOLERANCE = 300
BODY = b'{"type": "invoice.paid", "data": {"amount": 4200, "note": "caf\xc3\xa9 \xe2\x82\xac"}}'
URL = "https://hooks.example.com/webhooks/in?tenant=acme"


def _key(label: str) -> bytes:
    """32 distinctive bytes per label (never a substring of anything a message says)."""
    return hashlib.sha256(b"hookseal-hostile:" + label.encode()).digest()


def _text_secret(label: str) -> str:
    return "hs_" + _key(label).hex()[:40]


def _whsec(raw: bytes) -> str:
    return "whsec_" + base64.b64encode(raw).decode()


def _ed25519(label: str) -> tuple[Ed25519PrivateKey, bytes]:
    private = Ed25519PrivateKey.from_private_bytes(_key(label))
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return private, public


def _url_for(body: bytes) -> str:
    """Twilio signs JSON bodies through a bodySHA256 query parameter on the URL."""
    return f"{URL}&bodySHA256={hashlib.sha256(body).hexdigest()}"


@dataclass
class Request:
    """One delivery to verify: body, header lines (repeats allowed), url and method."""

    body: bytes
    headers: list[tuple[str, str]]
    url: str = URL
    method: str = "POST"

    def get(self, name: str) -> str:
        found = [v for k, v in self.headers if k.lower() == name.lower()]
        assert len(found) == 1, (name, found)
        return found[0]

    def replace(self, name: str, value: str | None) -> Request:
        """A copy with header ``name`` set to ``value`` (None: removed)."""
        lines = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        if value is not None:
            lines.append((name, value))
        return Request(self.body, lines, self.url, self.method)

    def with_body(self, body: bytes) -> Request:
        return Request(body, list(self.headers), self.url, self.method)

    def kwargs(self) -> dict[str, Any]:
        return {"url": self.url, "method": self.method}


@dataclass
class Profile:
    """How one scheme signs and where its signature, timestamp and id live.

    ``sig_pattern`` splits the signature header into (before, signature text, after);
    ``ts_header``/``ts_pattern`` locate the timestamp (a header of its own, or a regex whose
    group 1 is the timestamp inside ``ts_in``); ``id_header`` is the message id header.
    """

    name: str
    make_scheme: Callable[[], Scheme]
    secrets: list[object]
    signing_secret: object
    other_signing_secret: object
    sig_header: str
    sig_pattern: str
    encoding: str  # "hex", "base64" or "token"
    leak_secrets: list[bytes]
    ts_header: str | None = None
    ts_in: str | None = None
    ts_pattern: str | None = None
    ts_scale: int = 1
    id_header: str | None = None
    id_separator: str | None = None
    prefix_only: list[str] = field(default_factory=list)
    multi: Callable[[str, int], str] | None = None  # (genuine sig text, n) -> header value
    signs_body: bool = True
    replay_protected: bool = True
    asymmetric: bool = False
    body_for_url: bool = False
    extra_headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def signs_timestamp(self) -> bool:
        return self.ts_header is not None or self.ts_pattern is not None

    def signer(self, other: bool = False) -> Signer:
        return Signer(
            self.make_scheme(), self.other_signing_secret if other else self.signing_secret
        )

    def sign(
        self,
        body: bytes = BODY,
        *,
        timestamp: int = NOW,
        msg_id: str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
        other: bool = False,
    ) -> Request:
        url = _url_for(body) if self.body_for_url else URL
        headers = self.signer(other).sign(body, timestamp=timestamp, msg_id=msg_id, url=url)
        lines = [*self.extra_headers, *headers.items()]
        if not any(name.lower() == "content-type" for name, _ in lines):
            lines.insert(0, ("Content-Type", "application/json"))
        return Request(body, lines, url)

    # -- the signature inside its header -----------------------------------------------

    def split(self, request: Request) -> tuple[str, str, str]:
        match = re.fullmatch(self.sig_pattern, request.get(self.sig_header))
        assert match is not None, (self.name, request.get(self.sig_header))
        return match.group(1), match.group(2), match.group(3)

    def sig_text(self, request: Request) -> str:
        return self.split(request)[1]

    def with_sig_text(self, request: Request, text: str) -> Request:
        before, _, after = self.split(request)
        return request.replace(self.sig_header, before + text + after)

    def sig_bytes(self, request: Request) -> bytes:
        return self.decode(self.sig_text(request))

    def decode(self, text: str) -> bytes:
        if self.encoding == "hex":
            return bytes.fromhex(text)
        if self.encoding == "base64":
            return base64.b64decode(text)
        return text.encode()

    def encode(self, raw: bytes) -> str:
        if self.encoding == "hex":
            return raw.hex()
        if self.encoding == "base64":
            return base64.b64encode(raw).decode()
        return raw.decode("latin-1")

    # -- the timestamp -----------------------------------------------------------------

    def with_ts_text(self, request: Request, text: str) -> Request:
        if self.ts_header is not None:
            return request.replace(self.ts_header, text)
        assert self.ts_in is not None
        assert self.ts_pattern is not None
        value = request.get(self.ts_in)
        match = re.search(self.ts_pattern, value)
        assert match is not None
        new = value[: match.start(1)] + text + value[match.end(1) :]
        return request.replace(self.ts_in, new)

    def ts_text(self, request: Request) -> str:
        if self.ts_header is not None:
            return request.get(self.ts_header)
        assert self.ts_in is not None
        assert self.ts_pattern is not None
        match = re.search(self.ts_pattern, request.get(self.ts_in))
        assert match is not None
        return match.group(1)

    # -- the leak audit ----------------------------------------------------------------

    def expected_signatures(self, request: Request) -> list[bytes]:
        """What a genuine signature for ``request``'s body (and for BODY) would be."""
        found = []
        for body in {request.body, BODY}:
            genuine = self.sign(body)
            found.append(self.sig_bytes(genuine))
        return found


def _sw_multi(sig: str, n: int) -> str:
    return " ".join(["v1," + base64.b64encode(bytes(32)).decode()] * (n - 1) + ["v1," + sig])


def _hex_multi(prefix: str, sep: str, sig: str, n: int, head: str = "") -> str:
    return head + sep.join([prefix + "00" * 32] * (n - 1) + [prefix + sig])


_SW_KEY = _key("standard-webhooks")
_SW_OTHER = _key("standard-webhooks-other")
_ED_PRIV, _ED_PUB = _ed25519("standard-webhooks-ed25519")
_ED_OTHER_PRIV, _ = _ed25519("standard-webhooks-ed25519-other")
_DISCORD_PRIV, _DISCORD_PUB = _ed25519("discord")
_DISCORD_OTHER, _ = _ed25519("discord-other")
_RFC_HMAC = _key("rfc9421-hmac")
_RFC_OTHER = _key("rfc9421-hmac-other")
_RFC_ED_PRIV, _ = _ed25519("rfc9421-ed25519")
_RFC_ED_OTHER, _ = _ed25519("rfc9421-ed25519-other")


def _text(label: str) -> tuple[str, str, list[bytes]]:
    secret = _text_secret(label)
    return secret, _text_secret(label + "-other"), [secret.encode()]


_GH, _GH_OTHER, _GH_LEAK = _text("github")
_ST, _ST_OTHER, _ST_LEAK = _text("stripe")
_SL, _SL_OTHER, _SL_LEAK = _text("slack")
_SH, _SH_OTHER, _SH_LEAK = _text("shopify")
_TW, _TW_OTHER, _TW_LEAK = _text("twilio")
_HM, _HM_OTHER, _HM_LEAK = _text("hmac")
_GL, _GL_OTHER, _GL_LEAK = _text("gitlab")
_BR, _BR_OTHER, _BR_LEAK = _text("bearer")
_PD, _PD_OTHER, _PD_LEAK = _text("paddle")
_WO, _WO_OTHER, _WO_LEAK = _text("workos")


def _b64_sig(before: str, after: str = "") -> str:
    return rf"({re.escape(before)})([A-Za-z0-9+/=]+)({re.escape(after)})"


def _hex_sig(before: str) -> str:
    return rf"({before})([0-9a-f]+)()"


def _ed_private_bytes(key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


PROFILES: list[Profile] = [
    Profile(
        name="standard-webhooks-v1",
        make_scheme=StandardWebhooks,
        secrets=[_whsec(_SW_KEY)],
        signing_secret=_whsec(_SW_KEY),
        other_signing_secret=_whsec(_SW_OTHER),
        sig_header="webhook-signature",
        sig_pattern=_b64_sig("v1,"),
        encoding="base64",
        leak_secrets=[_SW_KEY, _whsec(_SW_KEY).encode()],
        ts_header="webhook-timestamp",
        id_header="webhook-id",
        id_separator=".",
        prefix_only=["v1,", "v1"],
        multi=_sw_multi,
    ),
    Profile(
        name="standard-webhooks-v1a",
        make_scheme=StandardWebhooks,
        secrets=["whpk_" + base64.b64encode(_ED_PUB).decode()],
        signing_secret="whsk_" + base64.b64encode(_ed_private_bytes(_ED_PRIV)).decode(),
        other_signing_secret="whsk_" + base64.b64encode(_ed_private_bytes(_ED_OTHER_PRIV)).decode(),
        sig_header="webhook-signature",
        sig_pattern=_b64_sig("v1a,"),
        encoding="base64",
        leak_secrets=[_ed_private_bytes(_ED_PRIV)],
        ts_header="webhook-timestamp",
        id_header="webhook-id",
        id_separator=".",
        prefix_only=["v1a,"],
        asymmetric=True,
    ),
    Profile(
        name="github",
        make_scheme=GitHub,
        secrets=[_GH],
        signing_secret=_GH,
        other_signing_secret=_GH_OTHER,
        sig_header="X-Hub-Signature-256",
        sig_pattern=_hex_sig("sha256="),
        encoding="hex",
        leak_secrets=_GH_LEAK,
        id_header="X-GitHub-Delivery",
        prefix_only=["sha256=", "sha256"],
    ),
    Profile(
        name="stripe",
        make_scheme=Stripe,
        secrets=[_ST],
        signing_secret=_ST,
        other_signing_secret=_ST_OTHER,
        sig_header="Stripe-Signature",
        sig_pattern=r"(t=\d+,v1=)([0-9a-f]+)()",
        encoding="hex",
        leak_secrets=_ST_LEAK,
        ts_in="Stripe-Signature",
        ts_pattern=r"t=(\d+)",
        prefix_only=[f"t={NOW},", f"t={NOW},v1=", "v1=", "v1=,t=1"],
        multi=lambda sig, n: _hex_multi("v1=", ",", sig, n, f"t={NOW},"),
    ),
    Profile(
        name="slack",
        make_scheme=Slack,
        secrets=[_SL],
        signing_secret=_SL,
        other_signing_secret=_SL_OTHER,
        sig_header="X-Slack-Signature",
        sig_pattern=_hex_sig("v0="),
        encoding="hex",
        leak_secrets=_SL_LEAK,
        ts_header="X-Slack-Request-Timestamp",
        prefix_only=["v0=", "v0"],
    ),
    Profile(
        name="shopify",
        make_scheme=Shopify,
        secrets=[_SH],
        signing_secret=_SH,
        other_signing_secret=_SH_OTHER,
        sig_header="X-Shopify-Hmac-Sha256",
        sig_pattern=_b64_sig(""),
        encoding="base64",
        leak_secrets=_SH_LEAK,
        id_header="X-Shopify-Webhook-Id",
    ),
    Profile(
        name="twilio",
        make_scheme=Twilio,
        secrets=[_TW],
        signing_secret=_TW,
        other_signing_secret=_TW_OTHER,
        sig_header="X-Twilio-Signature",
        sig_pattern=_b64_sig(""),
        encoding="base64",
        leak_secrets=_TW_LEAK,
        body_for_url=True,
    ),
    Profile(
        name="hmac-generic",
        make_scheme=lambda: HMACScheme(
            "X-Signature",
            prefix="sha256=",
            timestamp_header="X-Timestamp",
            id_header="X-Id",
            template="{id}.{timestamp}.{body}",
        ),
        secrets=[_HM],
        signing_secret=_HM,
        other_signing_secret=_HM_OTHER,
        sig_header="X-Signature",
        sig_pattern=_hex_sig("sha256="),
        encoding="hex",
        leak_secrets=_HM_LEAK,
        ts_header="X-Timestamp",
        id_header="X-Id",
        id_separator=".",
        prefix_only=["sha256=", "sha256=,sha256="],
        multi=lambda sig, n: _hex_multi("sha256=", ",", sig, n),
    ),
    Profile(
        name="gitlab",
        make_scheme=GitLab,
        secrets=[_GL],
        signing_secret=_GL,
        other_signing_secret=_GL_OTHER,
        sig_header="X-Gitlab-Token",
        sig_pattern=r"()(.+)()",
        encoding="token",
        leak_secrets=_GL_LEAK,
        id_header="X-Gitlab-Event-UUID",
        signs_body=False,
        replay_protected=False,
    ),
    Profile(
        name="bearer-token",
        make_scheme=lambda: SharedToken("Authorization", "Bearer "),
        secrets=[_BR],
        signing_secret=_BR,
        other_signing_secret=_BR_OTHER,
        sig_header="Authorization",
        sig_pattern=r"(Bearer )(.+)()",
        encoding="token",
        leak_secrets=_BR_LEAK,
        prefix_only=["Bearer ", "Bearer"],
        signs_body=False,
        replay_protected=False,
    ),
    Profile(
        name="discord",
        make_scheme=Discord,
        secrets=[_DISCORD_PUB.hex()],
        signing_secret=_ed_private_bytes(_DISCORD_PRIV).hex(),
        other_signing_secret=_ed_private_bytes(_DISCORD_OTHER).hex(),
        sig_header="X-Signature-Ed25519",
        sig_pattern=r"()([0-9a-f]+)()",
        encoding="hex",
        leak_secrets=[_ed_private_bytes(_DISCORD_PRIV)],
        ts_header="X-Signature-Timestamp",
        asymmetric=True,
    ),
    Profile(
        name="paddle",
        make_scheme=Paddle,
        secrets=[_PD],
        signing_secret=_PD,
        other_signing_secret=_PD_OTHER,
        sig_header="Paddle-Signature",
        sig_pattern=r"(ts=\d+;h1=)([0-9a-f]+)()",
        encoding="hex",
        leak_secrets=_PD_LEAK,
        ts_in="Paddle-Signature",
        ts_pattern=r"ts=(\d+)",
        prefix_only=[f"ts={NOW};", f"ts={NOW};h1=", "h1=", f"ts={NOW}"],
        multi=lambda sig, n: _hex_multi("h1=", ";", sig, n, f"ts={NOW};"),
    ),
    Profile(
        name="workos",
        make_scheme=WorkOS,
        secrets=[_WO],
        signing_secret=_WO,
        other_signing_secret=_WO_OTHER,
        sig_header="WorkOS-Signature",
        sig_pattern=r"(t=\d+, v1=)([0-9a-f]+)()",
        encoding="hex",
        leak_secrets=_WO_LEAK,
        ts_in="WorkOS-Signature",
        ts_pattern=r"t=(\d+)",
        ts_scale=1000,
        prefix_only=[f"t={NOW}000, ", f"t={NOW}000, v1=", "v1=", f"t={NOW}000"],
        multi=lambda sig, n: _hex_multi("v1=", ", ", sig, n, f"t={NOW}000, "),
    ),
    Profile(
        name="rfc9421-hmac",
        make_scheme=HTTPMessageSignatures,
        secrets=[{"k1": _RFC_HMAC}],
        signing_secret=("k1", _RFC_HMAC),
        other_signing_secret=("k1", _RFC_OTHER),
        sig_header="Signature",
        sig_pattern=_b64_sig("sig1=:", ":"),
        encoding="base64",
        leak_secrets=[_RFC_HMAC],
        ts_in="Signature-Input",
        ts_pattern=r"created=(\d+)",
        prefix_only=["sig1=", "sig1=::", "sig1=:"],
        multi=lambda sig, n: ", ".join(
            [f"s{i}=:{base64.b64encode(bytes(32)).decode()}:" for i in range(n - 1)]
            + [f"sig1=:{sig}:"]
        ),
    ),
    Profile(
        name="rfc9421-ed25519",
        make_scheme=HTTPMessageSignatures,
        secrets=[{"k1": _RFC_ED_PRIV.public_key()}],
        signing_secret=("k1", _RFC_ED_PRIV),
        other_signing_secret=("k1", _RFC_ED_OTHER),
        sig_header="Signature",
        sig_pattern=_b64_sig("sig1=:", ":"),
        encoding="base64",
        leak_secrets=[_ed_private_bytes(_RFC_ED_PRIV)],
        ts_in="Signature-Input",
        ts_pattern=r"created=(\d+)",
        prefix_only=["sig1=", "sig1=::"],
        asymmetric=True,
    ),
]

# The secrets passed to the verifier are a list for list-style schemes; RFC 9421 takes a mapping.
for _profile in PROFILES:
    if isinstance(_profile.secrets[0], dict):
        _profile.secrets = _profile.secrets[0]  # type: ignore[assignment]

BY_NAME = {profile.name: profile for profile in PROFILES}
IDS = [profile.name for profile in PROFILES]


def where(predicate: Callable[[Profile], bool]) -> list[Profile]:
    """The profiles a checklist row applies to."""
    return [profile for profile in PROFILES if predicate(profile)]


def needs_extras(profile: Profile) -> bool:
    """RFC 9421 needs the optional http-sf package."""
    return profile.name.startswith("rfc9421")


def params(profiles: list[Profile] | None = None) -> list[Any]:
    """pytest params for ``profiles`` (default: all), RFC 9421 ones marked ``extras``."""
    import pytest

    return [
        pytest.param(p, id=p.name, marks=[pytest.mark.extras] if needs_extras(p) else [])
        for p in (PROFILES if profiles is None else profiles)
    ]
