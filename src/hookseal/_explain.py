"""``hookseal explain``: diagnose why a delivery fails, the way a support engineer would.

Each diagnosis re-runs verification on a variant of the delivery (the body before a likely
re-serialisation, without an added newline, with the secret in another form, with another
URL, at the delivery's own time) and reports which variant verifies. It never prints a
secret, a signature or an expected signature: only what differs.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ._delivery import Verified
from ._errors import ConfigurationError, TimestampOutOfTolerance, VerificationError
from ._headers import Headers
from ._scheme_names import SCHEME_NAMES, scheme_by_name
from ._verifier import Verifier
from .schemes._base import Scheme

__all__ = ["Diagnosis", "explain"]

#: Signature headers that identify a provider's scheme.
_PROVIDER_HEADERS: dict[str, str] = {
    "webhook-signature": "standard-webhooks",
    "svix-signature": "svix",
    "x-hub-signature-256": "github",
    "x-hub-signature": "github",
    "stripe-signature": "stripe",
    "x-slack-signature": "slack",
    "x-shopify-hmac-sha256": "shopify",
    "x-twilio-signature": "twilio",
    "x-signature-ed25519": "discord",
    "paddle-signature": "paddle",
    "workos-signature": "workos",
    "x-gitlab-token": "gitlab",
    "signature-input": "rfc9421",
}


@dataclass
class Diagnosis:
    """The outcome of :func:`explain`: the verdict and the likely causes, most likely first."""

    verified: bool
    reason: str | None
    message: str
    causes: list[str] = field(default_factory=list)

    def render(self) -> str:
        """Human-readable text (no secret, no signature)."""
        if self.verified:
            return "verified: this delivery passes every check."
        lines = [f"rejected: {self.reason}: {self.message}"]
        if self.causes:
            lines.append("likely cause(s):")
            lines.extend(f"  - {cause}" for cause in self.causes)
        else:
            lines.append(
                "no single change explains it: check that the secret is the one configured for "
                "this endpoint at the sender, and that nothing rewrites the body or headers."
            )
        return "\n".join(lines)


def _attempt(
    scheme: Scheme,
    secrets: list[str | bytes],
    body: bytes,
    headers: Mapping[str, str],
    url: str | None,
    method: str | None,
    now: float,
) -> Verified | VerificationError:
    verifier = Verifier(scheme, secrets, nonce_store=None, on_event=_silent)
    try:
        return verifier.verify(body, headers, url=url, method=method, now=now)
    except VerificationError as err:
        return err


def _silent(_event: object) -> None:
    """Explain's trials are not deliveries: no audit events."""


def _json_variants(body: bytes) -> Iterator[tuple[str, bytes]]:
    try:
        document = json.loads(body)
    except ValueError:
        return
    seen = {body}
    variants: tuple[tuple[str, dict[str, Any]], ...] = (
        ("compact separators (',' and ':')", {"separators": (",", ":")}),
        ("Python's default separators (', ' and ': ')", {}),
        ("2-space indentation", {"indent": 2}),
        ("4-space indentation", {"indent": 4}),
    )
    for label, kwargs in variants:
        for ensure_ascii in (False, True):
            text = json.dumps(document, ensure_ascii=ensure_ascii, **kwargs)
            candidate = text.encode("utf-8")
            if candidate not in seen:
                seen.add(candidate)
                yield label, candidate


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _secret_variants(secret: str | bytes) -> Iterator[tuple[str, str | bytes]]:
    text = secret.decode("latin-1") if isinstance(secret, bytes) else secret
    if text.startswith("whsec_"):
        rest = text[len("whsec_") :]
        yield "without its 'whsec_' prefix (as raw text)", rest
        decoded = _b64(rest)
        if decoded:
            yield "as the bytes its 'whsec_' base64 encodes", decoded
    else:
        yield (
            "as a Standard Webhooks 'whsec_' secret (base64 of the raw text)",
            "whsec_" + base64.b64encode(text.encode()).decode(),
        )
        yield "with a 'whsec_' prefix added", "whsec_" + text
        decoded = _b64(text)
        if decoded:
            yield "base64-decoded", decoded
    if text != text.strip():
        yield "with surrounding whitespace removed", text.strip()


def _url_variants(url: str) -> Iterator[tuple[str, str]]:
    parts = urlsplit(url)
    other_scheme = "http" if parts.scheme == "https" else "https"
    yield f"with the {other_scheme}:// scheme", urlunsplit(parts._replace(scheme=other_scheme))
    if parts.port is not None:
        host = parts.hostname or ""
        yield "without the port", urlunsplit(parts._replace(netloc=host))
    else:
        port = 443 if parts.scheme == "https" else 80
        yield (
            f"with the explicit port :{port}",
            urlunsplit(parts._replace(netloc=f"{parts.hostname}:{port}")),
        )
    if parts.query:
        yield "without the query string", urlunsplit(parts._replace(query=""))
    if parts.path.endswith("/"):
        yield "without the trailing slash", urlunsplit(parts._replace(path=parts.path[:-1]))
    else:
        yield "with a trailing slash", urlunsplit(parts._replace(path=parts.path + "/"))


def explain(
    scheme_name: str,
    secrets: list[str | bytes],
    body: bytes,
    headers: Mapping[str, str] | list[tuple[str, str]],
    *,
    url: str | None = None,
    method: str | None = "POST",
    now: float,
) -> Diagnosis:
    """Verify a delivery and, if it fails, find the likely cause."""
    scheme = scheme_by_name(scheme_name)
    header_map = Headers(headers)
    try:
        first = _attempt(scheme, secrets, body, header_map, url, method, now)
    except ConfigurationError as err:
        return Diagnosis(False, "configuration_error", str(err), [])
    if isinstance(first, Verified):
        return Diagnosis(True, None, "verified")
    diagnosis = Diagnosis(False, first.reason, str(first))

    # 1. Headers from another provider.
    present = {_PROVIDER_HEADERS[name] for name in header_map if name in _PROVIDER_HEADERS}
    own = {name for name, cls in SCHEME_NAMES.items() if cls == SCHEME_NAMES[scheme_name]}
    foreign = sorted(present - own)
    if foreign and not present & own:
        diagnosis.causes.append(
            f"the headers belong to another provider's scheme ({', '.join(foreign)}), not "
            f"{scheme_name}: check --scheme or the endpoint's configuration."
        )
        return diagnosis

    # 2. The clock: retry at the delivery's own time.
    at = now
    if isinstance(first, TimestampOutOfTolerance) and first.timestamp is not None:
        skew = first.timestamp - now
        at = float(first.timestamp)
        direction = "behind" if skew > 0 else "ahead of"
        retry = _attempt(scheme, secrets, body, header_map, url, method, at)
        verdict = (
            "and the signature is otherwise valid"
            if isinstance(retry, Verified)
            else "and the signature does not match either"
        )
        diagnosis.causes.append(
            f"the timestamp is off by {abs(math.trunc(skew))} s (this clock is {direction} the "
            f"sender's, or the delivery was delayed or replayed) {verdict}. Check NTP on this "
            "server; a larger tolerance widens the replay window."
        )
        if isinstance(retry, Verified):
            return diagnosis
        first = retry

    trials: list[tuple[str, Callable[[], Verified | VerificationError]]] = []
    for stripped, label in (
        (body.rstrip(b"\r\n"), "a trailing newline was added to the body after signing"),
        (body.strip(), "whitespace was added around the body after signing"),
    ):
        if stripped != body:
            trials.append(
                (
                    label + ": pass the raw bytes exactly as received.",
                    partial(_attempt, scheme, secrets, stripped, header_map, url, method, at),
                )
            )
    for label, candidate in _json_variants(body):
        trials.append(
            (
                "the body was re-serialised: the signature matches the same JSON written with "
                f"{label}. JSON whitespace or key order differs from what was signed: verify "
                "the raw request bytes, never json.dumps(json.loads(body)).",
                partial(_attempt, scheme, secrets, candidate, header_map, url, method, at),
            )
        )
    for index, secret in enumerate(secrets):
        for label, variant in _secret_variants(secret):
            replaced = [*secrets[:index], variant, *secrets[index + 1 :]]
            trials.append(
                (
                    f"the secret was given in the wrong form: it verifies when used {label}. "
                    "Standard Webhooks 'whsec_' secrets are base64; Stripe's 'whsec_' secrets "
                    "are used as raw text.",
                    partial(_attempt, scheme, replaced, body, header_map, url, method, at),
                )
            )
    if url is not None:
        for label, variant_url in _url_variants(url):
            trials.append(
                (
                    f"the URL differs from the one the sender signed: it verifies {label}. Use "
                    "the public URL exactly as configured at the sender (scheme, host, port, "
                    "path and query).",
                    partial(_attempt, scheme, secrets, body, header_map, variant_url, method, at),
                )
            )
    for label, trial in trials:
        try:
            outcome = trial()
        except ConfigurationError:
            continue
        if isinstance(outcome, Verified):
            diagnosis.causes.append(label)
            break
    return diagnosis
