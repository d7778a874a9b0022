"""The exception tree: one root for rejected deliveries, one for configuration mistakes.

Every rejection is a :class:`VerificationError` subclass carrying a stable ``reason`` code and
the HTTP ``status_code`` an adapter answers with. Messages tell the integrator what was wrong
and what to do; they never contain a secret, an expected signature or any of the payload.
"""

from __future__ import annotations

from typing import ClassVar, Literal, TypeAlias, get_args

#: Every reason code a hookseal rejection carries: a closed set (docs/errors.md describes each).
#: Logs, metrics and alerts can key on it; a scheme adding a reason adds it here.
Reason: TypeAlias = Literal[
    # MissingHeader
    "missing_header",
    # MalformedHeader
    "malformed_header",
    "malformed_timestamp",
    "malformed_body",
    "duplicate_header",
    "header_too_long",
    "too_many_signatures",
    "missing_component",
    "ambiguous_signature",
    # SignatureMismatch
    "signature_mismatch",
    "no_supported_signature",
    "unknown_key_id",
    "algorithm_mismatch",
    "digest_mismatch",
    "untrusted_certificate_url",
    "certificate_expired",
    "topic_not_allowed",
    "wrong_audience",
    "wrong_issuer",
    "wrong_sender",
    "wrong_tenant",
    # TimestampOutOfTolerance
    "timestamp_too_old",
    "timestamp_in_future",
    # ReplayedDelivery
    "replayed",
    # ForbiddenAddress
    "forbidden_address",
    "malformed_address",
    # PayloadTooLarge
    "payload_too_large",
    "too_many_params",
    # NonceStoreUnavailable
    "nonce_store_unavailable",
    "nonce_store_full",
    # KeyUnavailable
    "key_unavailable",
    "key_fetch_budget",
    "confirmation_failed",
    # VerificationError's own default
    "verification_failed",
]
#: :data:`Reason` as a set, for code that checks a value at run time.
REASONS: frozenset[str] = frozenset(get_args(Reason))

__all__ = [
    "REASONS",
    "ConfigurationError",
    "ForbiddenAddress",
    "KeyUnavailable",
    "MalformedHeader",
    "MissingHeader",
    "NonceStoreUnavailable",
    "PayloadTooLarge",
    "Reason",
    "ReplayedDelivery",
    "SignatureMismatch",
    "TimestampOutOfTolerance",
    "VerificationError",
]


class ConfigurationError(ValueError):
    """A verifier, signer, scheme or store was configured wrongly.

    Raised when the object is built, never while a request is being verified, so that a
    mistake shows up at start-up instead of as rejected (or accepted) deliveries.
    """


class VerificationError(Exception):
    """A delivery was rejected. Catch this to handle every rejection.

    Attributes:
        reason: a stable, machine-readable code such as ``"signature_mismatch"``.
        status_code: the HTTP status an adapter answers with (400, 401, 403, 409, 413 or 503).
        header: the name of the header at fault, when there is one.
        client_addr: the client address an allowlist resolved for this delivery (behind
            trusted proxies, the forwarded client), when the verifier has an allowlist and got
            that far; otherwise None.
    """

    status_code: ClassVar[int] = 400
    default_reason: ClassVar[Reason] = "verification_failed"
    client_addr: str | None = None

    def __init__(
        self, message: str, *, reason: Reason | None = None, header: str | None = None
    ) -> None:
        super().__init__(message)
        self.reason: Reason = reason or self.default_reason
        self.header: str | None = header

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reason={self.reason!r}, message={str(self)!r})"


class MissingHeader(VerificationError):
    """A header the scheme needs is absent or empty."""

    status_code = 401
    default_reason = "missing_header"


class MalformedHeader(VerificationError):
    """A header is present but not in the form the scheme requires.

    Reasons include ``malformed_header``, ``malformed_timestamp``, ``duplicate_header``,
    ``header_too_long``, ``too_many_signatures``, and for RFC 9421 ``missing_component`` and
    ``ambiguous_signature``.
    """

    status_code = 400
    default_reason = "malformed_header"


class SignatureMismatch(VerificationError):
    """No presented signature matches any configured key for these exact bytes.

    Reasons: ``signature_mismatch``, ``no_supported_signature`` (only signature versions
    this verifier does not accept were presented), and for RFC 9421 ``unknown_key_id``,
    ``algorithm_mismatch`` and ``digest_mismatch`` (a covered Content-Digest does not match
    the body).
    """

    status_code = 401
    default_reason = "signature_mismatch"


class TimestampOutOfTolerance(VerificationError):
    """The signed timestamp lies outside the tolerance window.

    Reasons: ``timestamp_too_old`` and ``timestamp_in_future``. ``timestamp`` holds the
    signed timestamp that was refused (Unix seconds), for diagnosing clock skew.
    """

    status_code = 401
    default_reason = "timestamp_too_old"
    timestamp: int | None = None


class ReplayedDelivery(VerificationError):
    """The exact delivery was already accepted once (reason ``replayed``)."""

    status_code = 409
    default_reason = "replayed"


class ForbiddenAddress(VerificationError):
    """The sender's address is not allowed.

    Reasons: ``forbidden_address`` and ``malformed_address``.
    """

    status_code = 403
    default_reason = "forbidden_address"


class PayloadTooLarge(VerificationError):
    """The body is larger than the configured limit (reason ``payload_too_large``).

    Twilio form bodies with more parameters than the scheme allows get ``too_many_params``.
    """

    status_code = 413
    default_reason = "payload_too_large"


class NonceStoreUnavailable(VerificationError):
    """The replay store could not record the delivery, so it is refused (fail closed).

    Reasons: ``nonce_store_unavailable`` (the store failed or timed out) and
    ``nonce_store_full`` (the in-memory store holds its maximum of live entries).
    """

    status_code = 503
    default_reason = "nonce_store_unavailable"


class KeyUnavailable(VerificationError):
    """The sender's published key could not be obtained now, so the delivery is refused.

    Reasons: ``key_unavailable`` (the download failed, timed out, was too large, or failed
    recently and is not retried yet) and ``key_fetch_budget`` (too many downloads in the last
    minute). Status 503: the sender retries later, by which time the key is usually cached.
    """

    status_code = 503
    default_reason = "key_unavailable"
