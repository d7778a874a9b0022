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
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ._delivery import Verified
from ._errors import (
    ConfigurationError,
    SignatureMismatch,
    TimestampOutOfTolerance,
    VerificationError,
)
from ._headers import Headers
from ._verifier import Verifier
from .schemes._registry import by_name, providers_sending, scheme_by_name
from .schemes.base import Scheme

__all__ = ["Diagnosis", "explain"]

#: The deepest JSON body explain re-serialises. Webhook payloads nest a few levels; a deeper
#: document is not re-written (json.loads and json.dumps recurse once per level, so a body of
#: '[' * 100000 would otherwise end explain with a RecursionError).
_MAX_JSON_DEPTH = 100


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
        elif self.reason in ("signature_mismatch", "no_supported_signature"):
            lines.append(
                "no single change explains it: check that the secret is the one configured for "
                "this endpoint at the sender (or was rotated), and that nothing rewrites the "
                "body or headers."
            )
        else:
            lines.append("no variant of the body, secret or URL changes this: fix what it says.")
        return "\n".join(lines)


def _json_depth(document: object) -> int:
    """How deeply ``document`` nests (a scalar is 0), computed without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Iterable[object] = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest


def _load_json(body: bytes) -> tuple[bool, Any]:
    """``(True, document)`` for a JSON body explain can re-serialise, else ``(False, None)``.

    Not JSON, or nested deeper than ``_MAX_JSON_DEPTH`` (the C scanner raises RecursionError
    past the interpreter's recursion limit; json.dumps with an indent recurses in Python).
    """
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return False, None
    if _json_depth(document) > _MAX_JSON_DEPTH:
        return False, None
    return True, document


def _json_variants(body: bytes) -> Iterator[tuple[str, bytes]]:
    loaded, document = _load_json(body)
    if not loaded:
        return
    seen = {body}
    layouts: tuple[tuple[str, dict[str, Any]], ...] = (
        ("compact separators (',' and ':')", {"separators": (",", ":")}),
        ("Python's default separators (', ' and ': ')", {}),
        ("2-space indentation", {"indent": 2}),
        ("4-space indentation", {"indent": 4}),
    )
    for sort_keys in (False, True):
        order = " and its keys sorted" if sort_keys else ""
        for label, kwargs in layouts:
            for ensure_ascii in (False, True):
                text = json.dumps(
                    document, ensure_ascii=ensure_ascii, sort_keys=sort_keys, **kwargs
                )
                candidate = text.encode("utf-8")
                if candidate not in seen:
                    seen.add(candidate)
                    yield label + order, candidate


def _looks_reserialised_by_python(body: bytes) -> bool:
    """True when the body is exactly what ``json.dumps`` writes with its default settings."""
    loaded, document = _load_json(body)
    if not loaded:
        return False
    if not isinstance(document, (dict, list)) or len(document) < 2:
        return False
    return any(
        json.dumps(document, sort_keys=sort_keys).encode() == body for sort_keys in (False, True)
    )


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _secret_variants(secret: str | bytes) -> Iterator[tuple[str, str | bytes]]:
    """Other forms of one secret that integrators commonly confuse with each other."""
    raw = secret.encode("utf-8") if isinstance(secret, str) else secret
    text = raw.decode("latin-1")
    if text.startswith("whsec_"):
        rest = text[len("whsec_") :]
        yield "without its 'whsec_' prefix, as raw text", rest.encode("latin-1")
        yield "whole, as raw text (the way Stripe uses its 'whsec_' secrets)", raw
        decoded = _b64(rest)
        if decoded:
            yield "as the bytes its 'whsec_' base64 part encodes", decoded
    else:
        yield (
            "as a Standard Webhooks 'whsec_' secret (the base64 of the raw text)",
            "whsec_" + base64.b64encode(raw).decode("ascii"),
        )
        if text.isascii() and text.isprintable():
            yield "with a 'whsec_' prefix added", "whsec_" + text
        decoded = _b64(text)
        if decoded:
            yield "base64-decoded", decoded
        yield "as raw bytes", raw
    if raw != raw.strip():
        yield "with surrounding whitespace removed", raw.strip()


def _has_query(url: str) -> bool:
    try:
        return bool(urlsplit(url).query)
    except ValueError:  # an unterminated IPv6 bracket, for example
        return False


def _url_variants(url: str) -> Iterator[tuple[str, str]]:
    """The URL with its scheme, port, query and trailing slash changed, alone and combined."""
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        return
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    schemes = [(parts.scheme, "")]
    other = "http" if parts.scheme == "https" else "https"
    schemes.append((other, f"the {other}:// scheme"))
    # With a port, "no port" comes first: a proxy's internal port is the usual culprit.
    ports: list[tuple[int | None, str]] = [(port, "")]
    if port is not None:
        ports.insert(0, (None, "no port"))
    queries = [(parts.query, "")]
    if parts.query:
        queries.append(("", "no query string"))
        ordered = "&".join(sorted(parts.query.split("&")))
        if ordered != parts.query:
            queries.append((ordered, "the query parameters in sorted order"))
    paths = [(parts.path, "")]
    if parts.path.endswith("/") and len(parts.path) > 1:
        paths.append((parts.path[:-1], "no trailing slash"))
    else:
        paths.append((parts.path + "/", "a trailing slash"))
    seen = {url}
    for scheme, scheme_label in schemes:
        default_port = 443 if scheme == "https" else 80
        for port, port_label in [*ports, (default_port, f"the explicit port :{default_port}")]:
            for query, query_label in queries:
                for path, path_label in paths:
                    netloc = host if port is None else f"{host}:{port}"
                    candidate = urlunsplit((scheme, netloc, path, query, parts.fragment))
                    labels = [x for x in (scheme_label, port_label, query_label, path_label) if x]
                    if candidate in seen or not labels:
                        continue
                    seen.add(candidate)
                    yield " and ".join(labels), candidate


def explain(
    scheme_name: str,
    secrets: list[str | bytes],
    body: bytes,
    headers: Mapping[str, str] | list[tuple[str, str]],
    *,
    url: str | None = None,
    method: str | None = "POST",
    now: float,
    tolerance: int = 300,
) -> Diagnosis:
    """Verify a delivery and, if it fails, find the likely cause.

    Args:
        scheme_name: a provider name as the command line takes it (``"github"``, ...).
        secrets: the configured secrets, as text or bytes.
        body: the raw body of the failing delivery.
        headers: its headers.
        url: the URL the receiver saw (schemes that sign the URL).
        method: the HTTP method.
        now: the time of verification, Unix seconds.
        tolerance: the verifier's timestamp tolerance, seconds.

    Returns:
        A :class:`Diagnosis`; its text never contains a secret or a signature.
    """
    scheme = scheme_by_name(scheme_name)
    header_map = Headers(headers)
    attempt = partial(_attempt, scheme, tolerance=tolerance)

    try:
        first = attempt(secrets, body, header_map, url, method, now)
    except ConfigurationError as err:
        return _explain_configuration(attempt, err, secrets, body, header_map, url, method, now)
    if isinstance(first, Verified):
        return Diagnosis(True, None, "verified")
    diagnosis = Diagnosis(False, first.reason, str(first))

    # 1. Headers from another provider.
    own_row = by_name(scheme_name)
    senders = {row for name in header_map for row in providers_sending(name)}
    foreign = sorted(row.name for row in senders if row.cls != own_row.cls)
    if foreign and not any(row.cls == own_row.cls for row in senders):
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
        retry = attempt(secrets, body, header_map, url, method, at)
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
    if not isinstance(first, SignatureMismatch):
        # A missing or malformed header: no variant of the body, secret or URL can help.
        return diagnosis

    # 3. One change at a time: body, secret, URL.
    trials: list[tuple[str, Callable[[], Verified | VerificationError]]] = []
    for stripped, label in (
        (body.rstrip(b"\r\n"), "a trailing newline was added to the body after signing"),
        (body.strip(), "whitespace was added around the body after signing"),
    ):
        if stripped != body:
            trials.append(
                (
                    label + ": pass the raw bytes exactly as received.",
                    partial(attempt, secrets, stripped, header_map, url, method, at),
                )
            )
    for label, candidate in _json_variants(body):
        trials.append(
            (
                "the body was re-serialised: the signature matches the same JSON written with "
                f"{label}. JSON whitespace or key order differs from what was signed: verify "
                "the raw request bytes, never json.dumps(json.loads(body)).",
                partial(attempt, secrets, candidate, header_map, url, method, at),
            )
        )
    for label, replaced in _secret_trials(secrets):
        trials.append(
            (
                _wrong_form(label),
                partial(attempt, replaced, body, header_map, url, method, at),
            )
        )
    if url is not None:
        for label, variant_url in _url_variants(url):
            trials.append(
                (
                    f"the URL differs from the one the sender signed: it verifies with {label}. "
                    "Use the public URL exactly as configured at the sender (scheme, host, "
                    "port, path and query), not the one seen behind a proxy.",
                    partial(attempt, secrets, body, header_map, variant_url, method, at),
                )
            )
    for label, trial in trials:
        if isinstance(_run_trial(trial), Verified):
            diagnosis.causes.append(label)
            return diagnosis

    # 4. Nothing verifies: what a support engineer would still point out.
    if _looks_reserialised_by_python(body):
        diagnosis.causes.append(
            "possibly a re-serialised body: it is exactly what Python's json.dumps() writes "
            "(', ' and ': ' separators), which few senders send. If your code parsed the JSON "
            "and dumped it again, the original key order and whitespace are lost: verify the "
            "raw request bytes."
        )
    if url is not None and scheme.name == "twilio" and not _has_query(url):
        diagnosis.causes.append(
            "possibly the URL: it has no query string; if the URL configured at Twilio has one, "
            "it is part of what Twilio signed."
        )
    return diagnosis


def _attempt(
    scheme: Scheme,
    secrets: list[str | bytes],
    body: bytes,
    headers: Mapping[str, str],
    url: str | None,
    method: str | None,
    now: float,
    *,
    tolerance: int,
) -> Verified | VerificationError:
    verifier = Verifier(scheme, secrets, tolerance=tolerance, nonce_store=None, on_event=_silent)
    try:
        return verifier.verify(body, headers, url=url, method=method, now=now)
    except VerificationError as err:
        return err


def _silent(_event: object) -> None:
    """Explain's trials are not deliveries: no audit events."""


def _run_trial(trial: Callable[[], Verified | VerificationError]) -> Verified | VerificationError:
    try:
        return trial()
    except (ConfigurationError, TypeError):  # that form of the secret cannot even be loaded
        return VerificationError("variant not applicable")


def _secret_trials(secrets: list[str | bytes]) -> Iterator[tuple[str, list[str | bytes]]]:
    for index, secret in enumerate(secrets):
        for label, variant in _secret_variants(secret):
            yield label, [*secrets[:index], variant, *secrets[index + 1 :]]


def _wrong_form(label: str) -> str:
    return (
        f"the secret was given in the wrong form: it verifies when used {label}. Standard "
        "Webhooks 'whsec_' secrets are base64 (hookseal decodes the part after the prefix); "
        "Stripe's 'whsec_' secrets are used whole, as raw text. Paste the secret exactly as the "
        "provider shows it, into the matching scheme."
    )


def _explain_configuration(
    attempt: Callable[..., Verified | VerificationError],
    error: ConfigurationError,
    secrets: list[str | bytes],
    body: bytes,
    headers: Mapping[str, str],
    url: str | None,
    method: str | None,
    now: float,
) -> Diagnosis:
    """The secret cannot even be loaded by this scheme: find the form that verifies."""
    diagnosis = Diagnosis(False, "configuration_error", str(error))
    for label, replaced in _secret_trials(secrets):
        if isinstance(
            _run_trial(partial(attempt, replaced, body, headers, url, method, now)), Verified
        ):
            diagnosis.causes.append(_wrong_form(label))
            break
    return diagnosis
