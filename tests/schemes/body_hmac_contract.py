"""The tests every provider that signs the raw body with one HMAC in one header must pass.

A provider's test module subclasses :class:`BodyHMACContract` as ``Test<Provider>Contract``
and sets the class attributes; its published vector and SDK differential live beside it.
Every expected MAC here is computed independently with :mod:`hmac` from the provider's
documented algorithm ("derived"), never with hookseal's own signer.
"""

from __future__ import annotations

import base64
import hmac
import importlib
import json
import os
from collections.abc import Callable
from types import ModuleType
from typing import Any, ClassVar

import pytest
from hypothesis import strategies as st

from hookseal import (
    ConfigurationError,
    MalformedHeader,
    MissingHeader,
    ReplayedDelivery,
    SignatureMismatch,
    Signer,
    Verifier,
)
from hookseal.schemes.base import Scheme, make_replay_key
from hookseal.stores.memory import MemoryNonceStore

BODY = b'{"id":"evt_1","object":"event","data":{"amount":4200,"note":"caf\xc3\xa9"}}'
OTHER_SECRETS = ("rotated-out-secret",)
#: Secrets as dashboards show them (printable, no surrounding space), for SDK differentials.
SECRETS = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=48
)
#: Bodies as text (the SDKs take ``str``), including non-ASCII characters.
JSON_TEXT = st.builds(
    lambda note: json.dumps({"event": "payment.captured", "note": note}, ensure_ascii=False),
    st.text(max_size=64),
)


def sdk(module: str) -> ModuleType:
    """Import a provider SDK used as an oracle: skip without it, but fail when CI is set."""
    if os.environ.get("CI"):
        try:
            return importlib.import_module(module)
        except ImportError as error:  # pragma: no cover - only when CI lacks the SDK
            pytest.fail(f"{module} is not installed (CI is set: the SDK oracle must run): {error}")
    return pytest.importorskip(module)


class BodyHMACContract:
    """Derived tests for one provider; subclasses set the attributes below."""

    scheme_class: ClassVar[Callable[[], Scheme]]
    name: ClassVar[str]
    header: ClassVar[str]
    prefix: ClassVar[str] = ""
    encoding: ClassVar[str] = "hex"
    algorithm: ClassVar[str] = "sha256"
    secret: ClassVar[Any] = "provider-webhook-secret"
    #: The secret bytes the provider keys its HMAC with (differs from ``secret`` when the
    #: dashboard shows base64).
    key_bytes: ClassVar[bytes | None] = None
    id_header: ClassVar[str | None] = None
    #: Another valid secret of the provider's form, for rotation tests.
    other_secret: ClassVar[Any] = OTHER_SECRETS[0]
    max_body_bytes: ClassVar[int] = 1024 * 1024

    # -- helpers ---------------------------------------------------------------------------

    def key(self) -> bytes:
        if self.key_bytes is not None:
            return self.key_bytes
        return self.secret.encode("utf-8") if isinstance(self.secret, str) else self.secret

    def mac(self, body: bytes, key: bytes | None = None) -> bytes:
        return hmac.new(self.key() if key is None else key, body, self.algorithm).digest()

    def encode(self, mac: bytes) -> str:
        text = mac.hex() if self.encoding == "hex" else base64.b64encode(mac).decode()
        return self.prefix + text

    def value(self, body: bytes = BODY, key: bytes | None = None) -> str:
        return self.encode(self.mac(body, key))

    def verifier(self, *secrets: Any, **options: Any) -> Verifier:
        options.setdefault("nonce_store", None)
        return Verifier(self.scheme_class(), list(secrets or [self.secret]), **options)

    # -- accepted --------------------------------------------------------------------------

    def test_independent_mac_is_accepted(self) -> None:
        headers = {self.header: self.value()}
        if self.id_header is not None:
            headers[self.id_header] = "delivery-1"
        verified = self.verifier().verify(BODY, headers)
        assert verified.body == BODY
        assert verified.scheme == self.name
        assert verified.timestamp is None
        assert verified.key_index == 0
        if self.id_header is not None:
            assert verified.msg_id == "delivery-1"

    def test_header_name_is_case_insensitive(self) -> None:
        self.verifier().verify(BODY, {self.header.lower(): self.value()})
        self.verifier().verify(BODY, [(self.header.upper(), self.value())])

    @pytest.mark.parametrize("body", [b"", b"x", b"\xff\xfe\x00 not utf-8", BODY * 50])
    def test_signer_round_trip_matches_the_documented_algorithm(self, body: bytes) -> None:
        headers = Signer(self.scheme_class(), secret=self.secret).sign(body)
        assert headers[self.header] == self.value(body)
        self.verifier().verify(body, headers)

    def test_rotation_any_configured_secret(self) -> None:
        verified = self.verifier(self.other_secret, self.secret).verify(
            BODY, {self.header: self.value()}
        )
        assert verified.key_index == 1

    def test_body_limit(self) -> None:
        assert self.verifier().limits.max_body_bytes == self.max_body_bytes
        assert self.scheme_class().default_max_body_bytes in (None, self.max_body_bytes)

    # -- refused ---------------------------------------------------------------------------

    def test_tampered_body(self) -> None:
        value = self.value()
        v = self.verifier()
        reserialised = json.dumps(json.loads(BODY)).encode()
        assert reserialised != BODY
        flipped = BODY[:5] + bytes([BODY[5] ^ 1]) + BODY[6:]
        for body in (flipped, BODY + b"\n", reserialised, b""):
            with pytest.raises(SignatureMismatch) as info:
                v.verify(body, {self.header: value})
            assert info.value.reason == "signature_mismatch"

    def test_wrong_secret(self) -> None:
        with pytest.raises(SignatureMismatch):
            self.verifier().verify(BODY, {self.header: self.value(key=b"another secret")})

    def test_other_algorithm_of_the_same_secret(self) -> None:
        other = "sha1" if self.algorithm != "sha1" else "sha256"
        mac = hmac.new(self.key(), BODY, other).digest()
        with pytest.raises(SignatureMismatch):
            self.verifier().verify(BODY, {self.header: self.encode(mac)})

    @pytest.mark.parametrize("headers", [{}, {"X-Unrelated": "1"}])
    def test_missing_header(self, headers: dict[str, str]) -> None:
        with pytest.raises(MissingHeader) as info:
            self.verifier().verify(BODY, headers)
        assert info.value.reason == "missing_header"

    @pytest.mark.parametrize("blank", ["", "   "])
    def test_empty_header(self, blank: str) -> None:
        with pytest.raises(MissingHeader):
            self.verifier().verify(BODY, {self.header: blank})

    @pytest.mark.parametrize("valid_first", [True, False])
    def test_duplicate_header(self, valid_first: bool) -> None:
        lines = [(self.header, self.value()), (self.header, self.value(key=b"forged"))]
        if not valid_first:
            lines.reverse()
        with pytest.raises(MalformedHeader) as info:
            self.verifier().verify(BODY, lines)
        assert info.value.reason == "duplicate_header"

    def test_oversized_header(self) -> None:
        with pytest.raises(MalformedHeader) as info:
            self.verifier().verify(BODY, {self.header: self.value() + "0" * 100_000})
        assert info.value.reason == "header_too_long"

    @pytest.mark.parametrize("separator", [",", " ", ", "])
    @pytest.mark.parametrize("count", [2, 1000])
    def test_exactly_one_signature(self, separator: str, count: int) -> None:
        # The provider sends one signature; a list (even one holding the valid MAC) is
        # refused before any MAC is computed.
        forged = self.encode(bytes(len(self.mac(BODY))))
        for value in (
            separator.join([forged] * (count - 1) + [self.value()]),
            separator.join([self.value()] + [forged] * (count - 1)),
        ):
            with pytest.raises(MalformedHeader) as info:
                self.verifier(max_header_bytes=10**6).verify(BODY, {self.header: value})
            assert info.value.reason == "malformed_header"

    def test_malformed_values(self) -> None:
        good = self.value()
        bare = good[len(self.prefix) :]
        values = [
            good + "!!!",
            good + "é",
            good[:10] + "\x00" + good[10:],
            good[:10] + "\n" + good[10:],
            "\ufffd",
        ]
        if self.prefix:
            # prefix only; no prefix; another prefix; the prefix in another case
            values += [self.prefix, bare, "x" + good, self.prefix.upper() + bare]
        if self.encoding == "hex":
            values += [good[:-1], good[:10] + " " + good[10:], good[:-2] + "zz"]
        else:
            values += [good.rstrip("="), good + "==", good.replace("/", "_").replace("+", "-")]
            if "/" not in good and "+" not in good:
                values.remove(good.replace("/", "_").replace("+", "-"))
        v = self.verifier()
        for value in values:
            if value == good:
                continue
            with pytest.raises(MalformedHeader):
                v.verify(BODY, {self.header: value})

    def test_truncated_and_extended_macs(self) -> None:
        mac = self.mac(BODY)
        v = self.verifier()
        for presented in (mac[:-1], mac[: len(mac) // 2], mac[:1], mac + b"\0"):
            with pytest.raises(SignatureMismatch):
                v.verify(BODY, {self.header: self.encode(presented)})

    def test_empty_secret_is_a_configuration_error(self) -> None:
        for bad in ("", b"", " padded "):
            with pytest.raises(ConfigurationError):
                Verifier(self.scheme_class(), [bad])

    # -- replay and leaks ------------------------------------------------------------------

    def test_replay_identity_is_the_mac_of_the_body(self) -> None:
        store = MemoryNonceStore()
        v = self.verifier(nonce_store=store)
        headers = {self.header: self.value()}
        first = v.verify(BODY, headers)
        assert first.replay_key == make_replay_key(self.name, self.mac(BODY))
        resent = dict(headers)
        if self.id_header is not None:
            resent[self.id_header] = "a-fresh-unsigned-id"
        with pytest.raises(ReplayedDelivery):
            v.verify(BODY, resent)
        # A worker with another key order refuses it too (one shared store).
        other = self.verifier(self.secret, self.other_secret, nonce_store=store)
        with pytest.raises(ReplayedDelivery):
            other.verify(BODY, headers)

    def test_nothing_secret_leaks(self) -> None:
        forged = self.value(key=b"forged")
        with pytest.raises(SignatureMismatch) as info:
            self.verifier().verify(BODY, {self.header: forged})
        text = str(info.value) + repr(info.value)
        expected = self.value()
        for leak in (expected, expected[len(self.prefix) :], self.mac(BODY).hex(), "evt_1"):
            assert leak not in text
        secret_text = self.secret if isinstance(self.secret, str) else self.secret.decode()
        v = self.verifier()
        assert secret_text not in text
        assert secret_text not in repr(v)
        assert secret_text not in repr(self.scheme_class())
        assert repr(self.scheme_class()) == f"{type(self.scheme_class()).__name__}()"

    def test_options_are_read_only_once_used(self) -> None:
        scheme = self.scheme_class()
        Verifier(scheme, [self.secret])
        with pytest.raises(AttributeError):
            scheme.prefix = ""  # type: ignore[attr-defined]
