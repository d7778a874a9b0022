"""RFC 9421 HTTP Message Signatures (``Signature-Input`` / ``Signature``), with RFC 9530 digests.

Spec: https://www.rfc-editor.org/rfc/rfc9421 and https://www.rfc-editor.org/rfc/rfc9530

The sender lists the request components it signs (``@method``, ``@target-uri``, header fields
such as ``content-digest``...) and the signature parameters (``created``, ``keyid``, ``nonce``,
...) in ``Signature-Input``, and the signature in ``Signature``, both structured-field
dictionaries keyed by a label. This scheme parses them with ``http-sf`` (the optional extra
``hookseal[rfc9421]``), checks the configured policy before any cryptography, looks the key up by
``keyid`` (the key fixes the algorithm), rebuilds the signature base and verifies it, and, when
``content-digest`` is covered, checks the digest against the raw body.
"""

from __future__ import annotations

import binascii
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from typing_extensions import override

from .._delivery import Verified
from .._errors import (
    ConfigurationError,
    MalformedHeader,
    SignatureMismatch,
    TimestampOutOfTolerance,
    VerificationError,
)
from .._headers import HeaderName
from .._limits import Limits
from ..digest import _algorithm_names, content_digest, verify_content_digest
from ._rfc9421_components import (
    Component,
    RequestContext,
    parse_component,
    parse_component_spec,
    serialize,
    signature_base,
)
from ._rfc9421_keys import ALGORITHMS, RFC9421Key, load_key
from .base import Scheme, make_replay_key, require_header

__all__ = ["HTTPMessageSignatures"]

_NAME = "http-message-signatures"
_SIGNATURE_INPUT = HeaderName("Signature-Input")
_SIGNATURE = HeaderName("Signature")
_LABEL = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_SIGNATURE_PARAMS = {
    "created": int,
    "expires": int,
    "nonce": str,
    "alg": str,
    "keyid": str,
    "tag": str,
}
_MAX_TIMESTAMP = 10**12
_MAX_COMPONENTS = 32
_SIGNABLE_FIELDS = frozenset({"content-digest"})

logger = logging.getLogger("hookseal")


def _http_sf() -> Any:
    try:
        import http_sf
    except ImportError:
        raise ConfigurationError(
            "HTTPMessageSignatures needs the http-sf package: pip install 'hookseal[rfc9421]'"
        ) from None
    return http_sf


def _sf_text(value: object, what: str) -> str:
    """A configured value that must serialize as an SF String (printable ASCII)."""
    if not isinstance(value, str) or not value or not value.isascii() or not value.isprintable():
        raise ConfigurationError(f"{what} must be non-empty printable ASCII text.")
    return value


class _KeyRing(tuple[RFC9421Key, ...]):
    """The configured keys in order, indexed by key id; or a user resolver."""

    by_id: dict[str, tuple[int, RFC9421Key]]
    resolver: Callable[[str], object] | None
    logged_failures: set[str]

    def __new__(
        cls,
        keys: Mapping[str, RFC9421Key],
        resolver: Callable[[str], object] | None = None,
    ) -> _KeyRing:
        ring = super().__new__(cls, keys.values())
        ring.by_id = {key_id: (index, key) for index, (key_id, key) in enumerate(keys.items())}
        ring.resolver = resolver
        ring.logged_failures = set()
        return ring

    def find(self, key_id: str) -> tuple[int, RFC9421Key] | None:
        """The configured key for ``key_id``, or the resolver's; None when there is none.

        A resolver that raises anything but a VerificationError, or returns a key that does
        not load, is treated as not knowing the key id (so the delivery is refused with
        ``unknown_key_id``, never a 500); the exception class is logged once per class, its
        message never (it may hold the attacker's key id or a key).
        """
        found = self.by_id.get(key_id)
        if found is not None or self.resolver is None:
            return found
        try:
            spec = self.resolver(key_id)
            if spec is None:
                return None
            key = load_key(spec, private=False, what=f"The key the resolver gave for {key_id!r}")
        except LookupError:
            return None
        except VerificationError:
            raise
        except Exception as exc:
            self._log_failure(exc)
            return None
        return 0, key

    def _log_failure(self, exc: Exception) -> None:
        kind = type(exc).__qualname__
        if kind in self.logged_failures:
            return
        self.logged_failures.add(kind)
        what = (
            "returned a key that could not be loaded"
            if isinstance(exc, ConfigurationError)
            else "raised"
        )
        logger.warning(
            "hookseal: the RFC 9421 key resolver %s (%s); the delivery is refused as "
            "unknown_key_id. Logged once per exception class.",
            what,
            kind,
        )


class _SigningKey:
    __slots__ = ("key", "key_id")

    def __init__(self, key_id: str, key: RFC9421Key) -> None:
        self.key_id = key_id
        self.key = key

    def __repr__(self) -> str:
        return f"_SigningKey({self.key_id!r}, '**********')"


class _Signature:
    """One selected signature, parsed and checked against the policy (no crypto yet)."""

    __slots__ = ("components", "created", "key_id", "label", "nonce", "params", "signature")

    def __init__(
        self,
        label: str,
        components: list[Component],
        params: dict[str, Any],
        signature: bytes,
    ) -> None:
        self.label = label
        self.components = components
        self.params = params
        self.signature = signature
        self.created: int | None = params.get("created")
        self.key_id: str = params["keyid"]
        self.nonce: str | None = params.get("nonce")


class HTTPMessageSignatures(Scheme):
    """RFC 9421 HTTP Message Signatures, with RFC 9530 ``Content-Digest`` binding the body.

    Use with ``Verifier(HTTPMessageSignatures(...), secrets={"key-id": key})``, where each
    key is bytes (``hmac-sha256``), a PEM string or bytes, or a ``cryptography`` public key
    object (Ed25519, EC P-256/P-384); an RSA key is given as ``("rsa-pss-sha512", key)`` or
    ``("rsa-v1_5-sha256", key)``. ``secrets`` may instead be a callable ``resolver(keyid)``
    returning such a key, or None (or raising ``LookupError``) for an unknown key id. The
    resolver runs before any cryptography, once per checked signature (so up to
    ``max_signatures`` times per request), with the unauthenticated ``keyid``; any other
    exception it raises, or a key it returns that does not load, refuses the delivery as
    ``unknown_key_id`` (the exception class is logged once). The key fixes the algorithm: an
    ``alg`` parameter that names another one is refused. Pass ``url=`` and ``method=`` to
    ``verify()``.

    Args:
        required_components: what every accepted signature must cover, as component names
            (``"@method"``, ``"content-digest"``) or serialized identifiers
            (``'"@query-param";name="id"'``). The default binds the method, the full URL and,
            through the digest, the body.
        label: the signature label(s) that must verify. ``None``: the message must carry
            exactly one signature (after filtering by ``tag``), and it is the one checked. A
            string or a sequence of strings: each named signature must be present and verify
            under the whole policy; other signatures are ignored.
        tag: when set, every checked signature must carry this ``tag`` parameter (and with
            ``label=None`` it selects the signature). Signing adds it.
        require_created: refuse signatures without a ``created`` parameter (default True).
            ``created`` is checked against the verifier's window (``max_age`` back,
            ``max_future`` ahead); ``expires``, when present, must not have passed. Without
            ``created``, ``Verified.timestamp`` is ``expires - max_age`` (so the replay entry
            lives until ``expires``), or None
            without ``expires`` (replays are then bounded by ``replay_retention`` only).
        digest_algorithms: the ``Content-Digest`` algorithms a Signer emits (``"sha-256"``,
            ``"sha-512"``). Verification accepts both.
        include_alg: whether a Signer adds the ``alg`` parameter (default True).
        structured_fields: structured-field types (``"dictionary"``, ``"list"``, ``"item"``)
            of custom header fields that senders cover with ``;sf``.

    Signing: ``Signer(HTTPMessageSignatures(...), secret=("key-id", private_key))`` covers the
    required components (only derived components and ``content-digest``, which it adds) and
    adds ``created``, ``keyid``, ``alg``, ``nonce`` (the message id) and ``tag``.
    """

    name = _NAME
    signs_timestamp = True
    signs_url = True
    id_header = None

    def __init__(
        self,
        *,
        required_components: Sequence[str] = ("@method", "@target-uri", "content-digest"),
        label: str | Sequence[str] | None = None,
        tag: str | None = None,
        require_created: bool = True,
        digest_algorithms: Sequence[str] = ("sha-256",),
        include_alg: bool = True,
        structured_fields: Mapping[str, str] | None = None,
    ) -> None:
        self._sf = _http_sf()
        if isinstance(required_components, str):
            required_components = (required_components,)
        required: list[Component] = []
        for spec in required_components:
            try:
                component = parse_component_spec(spec)
            except ValueError as exc:
                raise ConfigurationError(f"required_components: {exc}") from None
            if component in required:
                raise ConfigurationError(f"required_components lists {spec!r} twice.")
            required.append(component)
        self.required_components = tuple(required)
        if label is None:
            labels: tuple[str, ...] = ()
        else:
            if isinstance(label, str):
                labels = (label,)
            elif isinstance(label, (tuple, list)):
                labels = tuple(label)
            else:
                raise ConfigurationError("label must be None, a label or a sequence of labels.")
            if not labels:
                raise ConfigurationError("label must be None, a label or a non-empty sequence.")
            for one in labels:
                if not isinstance(one, str) or not _LABEL.fullmatch(one):
                    raise ConfigurationError(
                        f"label {one!r} is not a valid signature label (lower-case letters, "
                        "digits, '_', '-', '.', '*', starting with a letter)."
                    )
            if len(set(labels)) != len(labels):
                raise ConfigurationError("label names a signature more than once.")
        self.labels = labels
        self.tag = None if tag is None else _sf_text(tag, "tag")
        self.require_created = bool(require_created)
        self.digest_algorithms = _algorithm_names(digest_algorithms, "digest_algorithms")
        self.include_alg = bool(include_alg)
        self.structured_fields = dict(structured_fields or {})
        for field, kind in self.structured_fields.items():
            if kind not in ("dictionary", "list", "item") or not isinstance(field, str):
                raise ConfigurationError(
                    "structured_fields maps lower-case field names to 'dictionary', 'list' or "
                    "'item'."
                )

    # -- keys --------------------------------------------------------------------------

    @override
    def load_keys(self, secrets: object) -> Sequence[Any]:
        """Load ``{keyid: key}`` (each key type-checked now) or accept a resolver callable."""
        if isinstance(secrets, Mapping):
            if not secrets:
                raise ConfigurationError("No keys configured: give at least one {keyid: key}.")
            loaded: dict[str, RFC9421Key] = {}
            for key_id, spec in secrets.items():
                _sf_text(key_id, "Each key id")
                loaded[key_id] = load_key(spec, private=False, what=f"The key for {key_id!r}")
            return _KeyRing(loaded)
        if callable(secrets) and not isinstance(secrets, (str, bytes)):
            return _KeyRing({}, resolver=secrets)
        raise ConfigurationError(
            "HTTPMessageSignatures takes secrets={keyid: key} (bytes for hmac-sha256, a PEM or "
            "a cryptography public key, or (algorithm, key) for RSA) or a resolver callable "
            "keyid -> key."
        )

    @override
    def load_key(self, secret: object) -> Any:
        """Not used on its own: keys are named by key id (see :meth:`load_keys`)."""
        raise ConfigurationError("HTTPMessageSignatures takes secrets={keyid: key}.")

    @override
    def load_signing_key(self, secret: object) -> Any:
        """Load the Signer's ``(keyid, private_key)`` pair (an HMAC secret is bytes)."""
        if not isinstance(secret, tuple) or len(secret) != 2:
            raise ConfigurationError(
                "An HTTPMessageSignatures Signer takes secret=(keyid, key): the key id the "
                "receiver knows the key by, and a private key (PEM or cryptography object), "
                "bytes for hmac-sha256, or (algorithm, key) for RSA."
            )
        key_id, spec = secret
        _sf_text(key_id, "The key id")
        if len(self.labels) > 1:
            raise ConfigurationError("A Signer adds one signature: configure at most one label.")
        for component in self.required_components:
            if (component.params and component.name == "content-digest") or (
                not component.name.startswith("@") and component.name not in _SIGNABLE_FIELDS
            ):
                raise ConfigurationError(
                    f"A Signer cannot cover {component.identifier}: it signs only derived "
                    "components (@method, @target-uri, ...) and the content-digest it adds."
                )
        return _SigningKey(key_id, load_key(spec, private=True, what="The signing key"))

    # -- verification ------------------------------------------------------------------

    def _parse_dictionary(self, value: str, header: str) -> dict[str, Any]:
        def duplicate(key: str, context: str) -> None:
            raise ValueError(f"duplicate {context} key {key!r}")

        try:
            parsed = self._sf.parse(
                value.encode("ascii"), tltype="dictionary", on_duplicate_key=duplicate
            )
        except Exception as exc:  # every parser failure is the sender's malformed header
            detail = str(exc).split(" at position", 1)[0][:120]
            raise MalformedHeader(
                f"The {header!r} header is not a valid structured-field dictionary ({detail}).",
                header=header,
            ) from None
        if not isinstance(parsed, dict):  # pragma: no cover - tltype guarantees a dict
            raise MalformedHeader(f"The {header!r} header is not a dictionary.", header=header)
        return parsed

    def _select(self, inputs: dict[str, Any]) -> list[str]:
        header = _SIGNATURE_INPUT.name
        if self.labels:
            for label in self.labels:
                if label not in inputs:
                    raise SignatureMismatch(
                        f"The request carries no signature labelled {label!r}, which this "
                        "verifier requires.",
                        reason="no_supported_signature",
                        header=header,
                    )
            return list(self.labels)
        candidates = list(inputs)
        if self.tag is not None:
            candidates = [
                label
                for label in candidates
                if isinstance(inputs[label], tuple)
                and isinstance(inputs[label][1], dict)
                and inputs[label][1].get("tag") == self.tag
            ]
            if not candidates:
                raise SignatureMismatch(
                    f"No signature carries the tag {self.tag!r} this verifier requires.",
                    reason="no_supported_signature",
                    header=header,
                )
        if len(candidates) > 1:
            raise MalformedHeader(
                f"The request carries {len(candidates)} signatures and no label is configured, "
                "so none is chosen: configure HTTPMessageSignatures(label=...) (or tag=...) "
                "to name the signature that must verify.",
                reason="ambiguous_signature",
                header=header,
            )
        return candidates

    def _parse_signature(self, label: str, member: object, presented: object) -> _Signature:
        header = _SIGNATURE_INPUT.name
        if (
            not isinstance(member, tuple)
            or len(member) != 2
            or not isinstance(member[0], list)
            or not isinstance(member[1], dict)
        ):
            raise MalformedHeader(
                f"The {label!r} member of {header!r} must be an inner list of components.",
                header=header,
            )
        items, params = member
        if len(items) > _MAX_COMPONENTS:
            raise MalformedHeader(
                f"The {label!r} signature covers more than {_MAX_COMPONENTS} components.",
                header=header,
            )
        components = [parse_component(item, header) for item in items]
        if len(set(components)) != len(components):
            raise MalformedHeader(
                f"The {label!r} signature lists a component twice.", header=header
            )
        for name, value in params.items():
            kind = _SIGNATURE_PARAMS.get(name)
            if kind is None:
                raise MalformedHeader(
                    f"The {label!r} signature has the unknown parameter {name!r}.", header=header
                )
            if type(value) is not kind:
                raise MalformedHeader(
                    f"The {name!r} parameter of the {label!r} signature must be "
                    f"{'an integer' if kind is int else 'a string'}.",
                    reason="malformed_timestamp" if kind is int else "malformed_header",
                    header=header,
                )
        if "keyid" not in params:
            raise MalformedHeader(
                f"The {label!r} signature has no keyid parameter, so no key can be chosen.",
                header=header,
            )
        if (
            not isinstance(presented, tuple)
            or len(presented) != 2
            or type(presented[0]) is not bytes
        ):
            raise MalformedHeader(
                f"The {label!r} member of the 'Signature' header must be a byte sequence "
                "(':<base64>:').",
                header=_SIGNATURE.name,
            )
        return _Signature(label, components, params, presented[0])

    def _check_policy(self, sig: _Signature, limits: Limits, now: float) -> None:
        header = _SIGNATURE_INPUT.name
        if self.tag is not None and sig.params.get("tag") != self.tag:
            raise SignatureMismatch(
                f"The {sig.label!r} signature does not carry the tag {self.tag!r} this verifier "
                "requires.",
                reason="no_supported_signature",
                header=header,
            )
        covered = set(sig.components)
        for component in self.required_components:
            if component not in covered:
                raise SignatureMismatch(
                    f"The {sig.label!r} signature does not cover {component.identifier}, which "
                    "this verifier requires (required_components).",
                    reason="missing_component",
                    header=header,
                )
        created = sig.created
        expires = sig.params.get("expires")
        for name, value in (("created", created), ("expires", expires)):
            if value is not None and not 0 <= value < _MAX_TIMESTAMP:
                raise MalformedHeader(
                    f"The {name!r} parameter of the {sig.label!r} signature is not a plausible "
                    "Unix time.",
                    reason="malformed_timestamp",
                    header=header,
                )
        if created is None:
            if self.require_created:
                raise MalformedHeader(
                    f"The {sig.label!r} signature has no 'created' parameter, which this "
                    "verifier requires to bound replays.",
                    reason="malformed_timestamp",
                    header=header,
                )
        else:
            limits.check_window(created, now, header)
        if expires is not None:
            if created is not None and expires < created:
                raise MalformedHeader(
                    f"The {sig.label!r} signature expires before it was created.",
                    reason="malformed_timestamp",
                    header=header,
                )
            if expires < now:
                error = TimestampOutOfTolerance(
                    f"The {sig.label!r} signature expired {int(now - expires)} s ago.",
                    reason="timestamp_too_old",
                    header=header,
                )
                error.timestamp = expires
                raise error

    @override
    def check(
        self,
        body: bytes,
        headers: Mapping[str, str],
        keys: Sequence[Any],
        limits: Limits,
        now: float,
        url: str | None,
        method: str | None,
    ) -> Verified:
        """Check headers, policy and timestamps, then the signature(s), then Content-Digest."""
        inputs, selected = self._selected(headers, limits, now)
        ring = keys if isinstance(keys, _KeyRing) else _KeyRing({})
        request = RequestContext(
            method, url, headers, limits.max_header_bytes, self.structured_fields
        )
        matched = [self._verify_one(sig, inputs, ring, request) for sig in selected]
        self._check_content_digest(selected, request, body)
        material = b"".join(
            fingerprint + self._replay_material(sig, base)
            for sig, (_, _, base, fingerprint) in zip(selected, matched, strict=True)
        )
        first_index, first_key_id, _, _ = matched[0]
        return Verified(
            body,
            timestamp=self._record_timestamp(selected, limits),
            msg_id=selected[0].nonce,
            key_index=first_index,
            key_id=first_key_id,
            scheme=_NAME,
            replay_key=make_replay_key(_NAME, material),
        )

    def _selected(
        self, headers: Mapping[str, str], limits: Limits, now: float
    ) -> tuple[dict[str, Any], list[_Signature]]:
        """Both headers parsed and bounded; the signatures to verify, each within the policy."""
        input_value = require_header(headers, _SIGNATURE_INPUT, limits, "signature input")
        signature_value = require_header(headers, _SIGNATURE, limits)
        inputs = self._parse_dictionary(input_value, _SIGNATURE_INPUT.name)
        signatures = self._parse_dictionary(signature_value, _SIGNATURE.name)
        for header, parsed in ((_SIGNATURE_INPUT.name, inputs), (_SIGNATURE.name, signatures)):
            limits.check_signatures(len(parsed), header)
        if list(inputs) != list(signatures):
            raise MalformedHeader(
                "The 'Signature-Input' and 'Signature' headers do not list the same labels in "
                "the same order.",
                header=_SIGNATURE.name,
            )
        selected = [
            self._parse_signature(label, inputs[label], signatures[label])
            for label in self._select(inputs)
        ]
        for sig in selected:
            self._check_policy(sig, limits, now)
        return inputs, selected

    def _verify_one(
        self, sig: _Signature, inputs: dict[str, Any], ring: _KeyRing, request: RequestContext
    ) -> tuple[int, str, bytes, bytes]:
        """Verify one signature: (key index, key id, signature base, key fingerprint)."""
        found = ring.find(sig.key_id)
        if found is None:
            raise SignatureMismatch(
                f"The {sig.label!r} signature names a keyid that is not configured.",
                reason="unknown_key_id",
                header=_SIGNATURE_INPUT.name,
            )
        index, key = found
        alg = sig.params.get("alg")
        if alg is not None and alg != key.algorithm:
            raise SignatureMismatch(
                f"The {sig.label!r} signature claims alg={alg!r}, but its key is configured "
                f"for {key.algorithm}. The algorithm always comes from the key.",
                reason="algorithm_mismatch",
                header=_SIGNATURE_INPUT.name,
            )
        params_line = self._serialize_member(inputs[sig.label])
        base = signature_base(sig.components, params_line, request)
        if not key.verify(sig.signature, base):
            raise SignatureMismatch(
                f"The {sig.label!r} signature does not match the request with the key for "
                "its keyid. Check the key, and that url= and method= are what the sender "
                "signed (the public URL, not one rewritten by a proxy).",
                header=_SIGNATURE.name,
            )
        return index, sig.key_id, base, key.fingerprint()

    def _check_content_digest(
        self, selected: list[_Signature], request: RequestContext, body: bytes
    ) -> None:
        """When a signature covers Content-Digest, the body must match it."""
        if any(
            component.name == "content-digest"
            for sig in selected
            for component in (*sig.components, *self.required_components)
        ):
            lines = request.field_lines("content-digest")
            if lines is None:  # pragma: no cover - a covered field that is absent fails above
                raise SignatureMismatch("The Content-Digest header is missing.")
            verify_content_digest(body, ", ".join(lines))

    @staticmethod
    def _record_timestamp(selected: list[_Signature], limits: Limits) -> int | None:
        """The timestamp the verifier keeps the replay record from."""
        created_values = [sig.created for sig in selected if sig.created is not None]
        if created_values:
            return min(created_values)
        # No signed creation time (require_created=False): the signature is good until its
        # latest 'expires', and the verifier keeps a replay entry until timestamp + max_age.
        # Report that moment so the entry outlives the signature (without 'expires' the
        # replay bound is the verifier's replay_retention).
        expiries = [sig.params["expires"] for sig in selected if "expires" in sig.params]
        return max(expiries) - limits.max_age if expiries else None

    @staticmethod
    def _replay_material(sig: _Signature, base: bytes) -> bytes:
        if sig.nonce is not None and sig.created is not None:
            text = f"nonce\n{sig.key_id}\n{sig.nonce}\n{sig.created}\n"
            return text.encode("ascii")
        # The key id and the signed content (which holds @signature-params and so 'created'),
        # never the signature bytes: an ECDSA signature (r, s) has a second valid form
        # (r, n - s), and RSA-PSS or ECDSA re-signing gives new bytes, so keying on the
        # signature would let anyone holding a captured delivery replay it once more.
        # (High-s ECDSA is still accepted: RFC 9421 senders do not normalise s.)
        key_id = sig.key_id.encode("ascii")
        return (
            b"base\n"
            + len(key_id).to_bytes(8, "big")
            + key_id
            + len(base).to_bytes(8, "big")
            + base
        )

    def _serialize_member(self, member: Any) -> str:
        return serialize(member, "signature parameters", _SIGNATURE_INPUT.name)

    # -- signing -----------------------------------------------------------------------

    @override
    def sign(
        self,
        key: Any,
        body: bytes,
        *,
        timestamp: int,
        msg_id: str,
        url: str | None,
        method: str,
    ) -> dict[str, str]:
        """``Signature-Input`` and ``Signature`` (and ``Content-Digest`` when covered)."""
        if not isinstance(key, _SigningKey):
            raise ConfigurationError("Sign with Signer(scheme, secret=(keyid, private_key)).")
        headers: dict[str, str] = {}
        components = list(self.required_components)
        if any(component.name == "content-digest" for component in components):
            headers["Content-Digest"] = content_digest(body, self.digest_algorithms)
        params: dict[str, Any] = {"created": timestamp, "keyid": key.key_id}
        if self.include_alg:
            params["alg"] = key.key.algorithm
        params["nonce"] = _sf_text(msg_id, "msg_id (the nonce)")
        if self.tag is not None:
            params["tag"] = self.tag
        member = ([(component.name, component.params) for component in components], params)
        try:
            params_line = self._serialize_member(member)
            request = RequestContext(method, url, headers, 1 << 20)
            base = signature_base(components, params_line, request)
        except (ValueError, VerificationError) as exc:
            raise ConfigurationError(f"Cannot sign this request: {exc}") from None
        label = self.labels[0] if self.labels else "sig1"
        signature = binascii.b2a_base64(key.key.sign(base), newline=False).decode("ascii")
        headers["Signature-Input"] = f"{label}={params_line}"
        headers["Signature"] = f"{label}=:{signature}:"
        return headers

    def __repr__(self) -> str:
        required = ", ".join(component.identifier for component in self.required_components)
        return (
            f"HTTPMessageSignatures(required_components=[{required}], label="
            f"{list(self.labels) or None!r}, tag={self.tag!r})"
        )


#: The algorithms this scheme verifies and signs, for documentation and tests.
SUPPORTED_ALGORITHMS = ALGORITHMS
