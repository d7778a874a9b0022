"""Every row of the bad-input checklist (../shared/SECURITY.md) through Verifier.verify/averify.

Each row runs for every scheme profile it applies to, in both modes (``verify`` with header
lines, ``averify`` with a plain dict). Every rejection is checked for its class, reason and
status, for leaving the nonce store untouched, for exactly one audit event, and for leaking
nothing (secret, expected or presented signature, body bytes) through the exception, the
verifier's repr, the event or the ``hookseal`` log records (the ``log`` fixture).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

# An autouse fixture: every row runs twice, with the schemes' fast checks and with check alone.
from check_paths import check_path as check_path
from check_paths import pytest_generate_tests as pytest_generate_tests
from hookseal import (
    ForbiddenAddress,
    IPAllowlist,
    MalformedHeader,
    MissingHeader,
    NonceStoreUnavailable,
    PayloadTooLarge,
    ReplayedDelivery,
    SignatureMismatch,
    TimestampOutOfTolerance,
)
from hookseal._keys import HMACKey
from hookseal.schemes import _rfc9421_keys, discord, standard_webhooks
from hookseal.stores.memory import MemoryNonceStore

# Imported once at collection, like every class the harness uses: other tests may purge
# hookseal from sys.modules, and patching a re-imported class would count nothing.
from ._harness import MODES, Harness, RecordingStore, Verifier
from ._profiles import BODY, BY_NAME, IDS, NOW, PROFILES, TOLERANCE, Profile, params, where

#: The checklist runs every scheme profile: both paths, whatever this module imports.
CHECK_BOTH_PATHS = True

MALFORMED = "malformed_header"


def _params(profiles: list[Profile]) -> list[object]:
    return params(profiles)


ALL = _params(PROFILES)
TIMED = _params(where(lambda p: p.signs_timestamp))
BODY_SIGNED = _params(where(lambda p: p.signs_body))
ENCODED = _params(where(lambda p: p.encoding != "token"))
WITH_PREFIX = _params(where(lambda p: bool(p.prefix_only)))
MULTI = _params(where(lambda p: p.multi is not None))
SINGLE = _params(where(lambda p: p.multi is None))
WITH_ID = _params(where(lambda p: p.id_header is not None))
REPLAY = _params(where(lambda p: p.replay_protected))


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# -- rows 1-3: absent, blank and prefix-only signature headers ---------------------------


@pytest.mark.parametrize("profile", ALL)
def test_row01_signature_header_absent(profile: Profile, mode: str, log: object) -> None:
    h = Harness(profile, mode)
    request = profile.sign().replace(profile.sig_header, None)
    exc = h.reject(request, MissingHeader, "missing_header", caplog=log)  # type: ignore[arg-type]
    assert exc.status_code == 401


@pytest.mark.parametrize("blank", ["", "   "])
@pytest.mark.parametrize("profile", ALL)
def test_row02_signature_header_blank(profile: Profile, mode: str, blank: str, log: object) -> None:
    h = Harness(profile, mode)
    request = profile.sign().replace(profile.sig_header, blank)
    exc = h.reject(request, MissingHeader, "missing_header", caplog=log)  # type: ignore[arg-type]
    assert exc.status_code == 401


@pytest.mark.parametrize("profile", WITH_PREFIX)
def test_row03_prefix_only(profile: Profile, mode: str, log: object) -> None:
    h = Harness(profile, mode)
    for value in profile.prefix_only:
        request = profile.sign().replace(profile.sig_header, value)
        if value == "sig1=::":
            # RFC 9421: an empty byte sequence parses, and fails verification (401).
            h.reject(request, SignatureMismatch, "signature_mismatch", caplog=log)  # type: ignore[arg-type]
            continue
        exc = h.reject(request, MalformedHeader, MALFORMED, caplog=log)  # type: ignore[arg-type]
        assert exc.status_code == 400


# -- rows 4-5: truncated, extended and leniently encoded signatures ------------------------


@pytest.mark.parametrize("profile", ALL)
def test_row04_truncated_or_extended(profile: Profile, mode: str) -> None:
    h = Harness(profile, mode)
    genuine = profile.sign()
    raw = profile.sig_bytes(genuine)
    # Every shorter decoded length, strictly re-encoded: a mismatch, never a prefix match.
    for length in range(1, len(raw)):
        h.reject(profile.with_sig_text(genuine, profile.encode(raw[:length])), SignatureMismatch)
    for extra in (b"A" if profile.encoding == "token" else b"\x00", raw[:1], raw):
        h.reject(profile.with_sig_text(genuine, profile.encode(raw + extra)), SignatureMismatch)
    # Truncating the text itself: odd-length hex and cut base64 are malformed, never accepted.
    text = profile.sig_text(genuine)
    for length in range(1, len(text)):
        cut = text[:length]
        if profile.name.startswith("rfc9421") and text[length:].strip("=") == "":
            # RFC 8941 byte sequences may omit padding: the same bytes, accepted once.
            assert base64.b64decode(cut + "==") == raw
            continue
        exc = h.reject(profile.with_sig_text(genuine, cut), (SignatureMismatch, MalformedHeader))
        if profile.encoding == "hex" and length % 2:
            assert isinstance(exc, MalformedHeader)
    assert not h.store.calls
    h.accept(genuine)


@pytest.mark.parametrize("profile", ALL)
def test_row05_lenient_encodings(profile: Profile, mode: str, log: object) -> None:
    h = Harness(profile, mode)
    genuine = profile.sign()
    h.accept(genuine)
    text = profile.sig_text(genuine)
    middle = len(text) // 2
    variants = [
        text + "!!!",
        text + "==",
        text + " ",
        text[:middle] + "\n" + text[middle:],
        text[:middle] + " " + text[middle:],
        text + "\t",
        " " + text,
    ]
    if profile.encoding == "hex":
        variants += [text.upper(), text.upper()[:-1] + "g", "0x" + text, text[:2] + " " + text[2:]]
    if profile.encoding == "base64":
        variants += [
            text.rstrip("="),
            text.replace("+", "-").replace("/", "_"),
            text + "=" if text.endswith("=") else text + "A",
            text[:-2] + chr(ord(text[-2]) ^ 1) + text[-1],  # non-zero trailing bits
        ]
    # After the genuine delivery was accepted, no other spelling of its signature is accepted:
    # a strict decoder refuses it (400), and a lenient one (RFC 8941 byte sequences, which
    # RFC 9421 uses, tolerate missing padding and non-zero pad bits by design) decodes it to
    # the same bytes, hence the same replay key (409).
    lenient = profile.name.startswith("rfc9421")
    for variant in dict.fromkeys(variants):
        if variant == text:
            continue
        request = profile.with_sig_text(genuine, variant)
        allowed: tuple[type[Exception], ...] = (MalformedHeader, SignatureMismatch)
        if lenient:
            allowed += (ReplayedDelivery,)
        if "\n" in variant or "\t" in variant:
            allowed = (MalformedHeader,)
        elif profile.encoding == "token" or (profile.encoding == "hex" and variant == text.upper()):
            allowed = (SignatureMismatch, MalformedHeader, ReplayedDelivery)
        h.reject(request, allowed, caplog=log, store_untouched=False)  # type: ignore[arg-type]
    assert len(h.store) == (1 if profile.replay_protected else 0)


# -- rows 6-9: wrong secret, changed body, re-serialised JSON, non-UTF-8 bodies -------------


@pytest.mark.parametrize("profile", ALL)
def test_row06_other_secret(profile: Profile, mode: str, log: object) -> None:
    h = Harness(profile, mode)
    forged = profile.sign(other=True)
    exc = h.reject(
        forged,
        SignatureMismatch,
        {"signature_mismatch", "digest_mismatch"},
        caplog=log,  # type: ignore[arg-type]
        extra_secrets=[profile.sig_bytes(forged)] if profile.encoding == "token" else [],
    )
    assert exc.status_code == 401


@pytest.mark.parametrize("profile", BODY_SIGNED)
def test_row07_body_changed(profile: Profile, mode: str, log: object) -> None:
    h = Harness(profile, mode)
    genuine = profile.sign()
    flipped = bytearray(BODY)
    flipped[20] ^= 0x01
    for body in (bytes(flipped), BODY + b"\n", BODY[:-1], b" " + BODY):
        h.reject(
            genuine.with_body(body),
            SignatureMismatch,
            {"signature_mismatch", "digest_mismatch"},
            caplog=log,  # type: ignore[arg-type]
        )


@pytest.mark.parametrize("profile", BODY_SIGNED)
def test_row08_reserialised_json(profile: Profile, mode: str, log: object) -> None:
    h = Harness(profile, mode)
    genuine = profile.sign()
    for body in (
        json.dumps(json.loads(BODY)).encode(),
        json.dumps(json.loads(BODY), separators=(",", ":")).encode(),
    ):
        assert body != BODY
        h.reject(
            genuine.with_body(body),
            SignatureMismatch,
            {"signature_mismatch", "digest_mismatch"},
            caplog=log,  # type: ignore[arg-type]
        )


@pytest.mark.parametrize("profile", ALL)
def test_row09_non_utf8_body(profile: Profile, mode: str, log: object) -> None:
    body = b"\xff\xfe\x00\x80 not utf-8 \xc3\x28 \xed\xa0\x80"
    h = Harness(profile, mode)
    forged = profile.sign(body, other=True)
    h.reject(
        forged,
        SignatureMismatch,
        {"signature_mismatch", "digest_mismatch"},
        caplog=log,  # type: ignore[arg-type]
        extra_secrets=[profile.sig_bytes(forged)] if profile.encoding == "token" else [],
    )
    verified = h.accept(profile.sign(body))
    assert verified.body == body


# -- row 10: many signatures and huge headers, with zero crypto ------------------------------


class _CountedState:
    """A key's prepared inner hash state whose copies, one per MAC computed, are counted."""

    def __init__(self, state: object, counter: CryptoCounter) -> None:
        self._state = state
        self._counter = counter

    def copy(self) -> object:
        self._counter.count += self._counter.active
        return self._state.copy()  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self._state, name)


class CryptoCounter:
    """Counts MAC and public-key operations made while a verifier checks a delivery.

    Every HMAC, on any path (the schemes' prepared fast checks included), starts by copying
    its key's prepared inner state: keys built after the counter count those copies.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        self.active = False
        original_verify = Verifier.verify
        original_averify = Verifier.averify

        def verify(*args, **kwargs):  # type: ignore[no-untyped-def]
            # Only operations made while the verifier checks a delivery count (not signing).
            self.active = True
            try:
                return original_verify(*args, **kwargs)
            finally:
                self.active = False

        async def averify(*args, **kwargs):  # type: ignore[no-untyped-def]
            self.active = True
            try:
                return await original_averify(*args, **kwargs)
            finally:
                self.active = False

        monkeypatch.setattr(Verifier, "verify", verify)
        monkeypatch.setattr(Verifier, "averify", averify)
        original_init = HMACKey.__init__

        def init(key, *args, **kwargs):  # type: ignore[no-untyped-def]
            original_init(key, *args, **kwargs)
            key._inner = _CountedState(key._inner, self)

        monkeypatch.setattr(HMACKey, "__init__", init)
        monkeypatch.setattr(
            _rfc9421_keys.RFC9421Key, "verify", self._wrap(_rfc9421_keys.RFC9421Key.verify)
        )
        monkeypatch.setattr(
            standard_webhooks,
            "_ed25519_verifies",
            self._wrap(standard_webhooks._ed25519_verifies),
        )

    def _wrap(self, function):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            self.count += self.active
            return function(*args, **kwargs)

        return wrapper

    def wrap_keys(self, harness: Harness) -> None:
        """Discord verifies with cryptography key objects directly: wrap them."""
        if isinstance(harness.verifier.scheme, discord.Discord):
            counter = self

            class Counting:
                def __init__(self, key: object) -> None:
                    self.key = key

                def verify(self, *args: object) -> None:
                    counter.count += counter.active
                    self.key.verify(*args)  # type: ignore[attr-defined]

            # The configuration is read-only to users; the test swaps the keys underneath.
            keys = tuple(Counting(k) for k in harness.verifier._keys)
            object.__setattr__(harness.verifier, "_keys", keys)


@pytest.mark.parametrize("profile", MULTI)
def test_row10_thousand_signatures(
    profile: Profile, mode: str, monkeypatch: pytest.MonkeyPatch, log: object
) -> None:
    counter = CryptoCounter(monkeypatch)
    genuine = profile.sign()
    value = profile.multi(profile.sig_text(genuine), 1000)  # type: ignore[misc]
    request = genuine.replace(profile.sig_header, value)
    # With the default header cap the header is refused for its length...
    h = Harness(profile, mode)
    h.reject(request, MalformedHeader, "header_too_long", caplog=log)  # type: ignore[arg-type]
    # ...and with a cap raised out of the way, for the number of signatures.
    h = Harness(profile, mode, {"max_header_bytes": 1 << 20})
    h.reject(request, MalformedHeader, "too_many_signatures", caplog=log)  # type: ignore[arg-type]
    # Just over max_signatures (valid one last) is refused too; just at it is accepted.
    h = Harness(profile, mode, {"max_header_bytes": 1 << 20, "max_signatures": 4})
    h.reject(
        genuine.replace(profile.sig_header, profile.multi(profile.sig_text(genuine), 5)),  # type: ignore[misc]
        MalformedHeader,
        "too_many_signatures",
    )
    assert counter.count == 0
    if not profile.name.startswith("rfc9421"):  # RFC 9421 needs a matching Signature-Input
        h.accept(genuine.replace(profile.sig_header, profile.multi(profile.sig_text(genuine), 4)))  # type: ignore[misc]


@pytest.mark.parametrize("profile", ALL)
def test_row10_huge_header_and_repeated_entries(
    profile: Profile, mode: str, monkeypatch: pytest.MonkeyPatch, log: object
) -> None:
    counter = CryptoCounter(monkeypatch)
    h = Harness(profile, mode)
    counter.wrap_keys(h)
    genuine = profile.sign()
    text = profile.sig_text(genuine)
    huge = profile.with_sig_text(genuine, text * (100 * 1024 // len(text) + 1))
    assert len(huge.get(profile.sig_header)) > 100 * 1024
    h.reject(huge, MalformedHeader, "header_too_long", caplog=log)  # type: ignore[arg-type]
    if profile.multi is None and profile.encoding != "token":
        before, _, after = profile.split(genuine)
        many = ",".join([before + text + after] * 1000)
        h2 = Harness(profile, mode, {"max_header_bytes": 1 << 20})
        counter.wrap_keys(h2)
        h2.reject(genuine.replace(profile.sig_header, many), MalformedHeader)
    assert counter.count == 0


# -- rows 11-12: non-ASCII and control characters, repeated header lines ---------------------


@pytest.mark.parametrize("char", ["é", "\x00", "\r\n", "\ufffd", "\x7f", "\u2028", "\x1b"])
@pytest.mark.parametrize("profile", ALL)
def test_row11_bad_characters(profile: Profile, mode: str, char: str, log: object) -> None:
    h = Harness(profile, mode)
    genuine = profile.sign()
    names = [profile.sig_header]
    if profile.ts_header:
        names.append(profile.ts_header)
    if profile.id_header:
        names.append(profile.id_header)
    for name in names:
        value = genuine.get(name)
        for position in (0, len(value) // 2, len(value)):
            bad = genuine.replace(name, value[:position] + char + value[position:])
            exc = h.reject(bad, MalformedHeader, caplog=log)  # type: ignore[arg-type]
            assert exc.status_code == 400


@pytest.mark.parametrize("profile", ALL)
def test_row12_repeated_signature_header(profile: Profile, mode: str, log: object) -> None:
    h = Harness(profile, mode)
    genuine = profile.sign()
    forged = profile.sign(other=True)
    valid = (profile.sig_header, genuine.get(profile.sig_header))
    bad = (profile.sig_header, forged.get(profile.sig_header))
    rest = [line for line in genuine.headers if line[0] != profile.sig_header]
    for lines in ([*rest, bad, valid], [*rest, valid, bad], [*rest, valid, valid]):
        request = genuine.replace(profile.sig_header, None)
        request.headers = lines
        exc = h.reject(
            request,
            MalformedHeader,
            "duplicate_header",
            caplog=log,  # type: ignore[arg-type]
            extra_secrets=[profile.sig_bytes(forged)] if profile.encoding == "token" else [],
        )
        assert exc.status_code == 400


@pytest.mark.parametrize("profile", _params(where(lambda p: p.ts_header or p.id_header)))
def test_row12_repeated_timestamp_or_id_header(profile: Profile, mode: str) -> None:
    h = Harness(profile, mode)
    genuine = profile.sign()
    for name in filter(None, (profile.ts_header, profile.id_header)):
        request = genuine.replace(name, None)
        request.headers = [*genuine.headers, (name, genuine.get(name))]
        h.reject(request, MalformedHeader, "duplicate_header")


# -- rows 13-16: downgrades and key confusion ----------------------------------------------


def test_row13_github_sha1_without_opt_in(mode: str, log: object) -> None:
    profile = BY_NAME["github"]
    h = Harness(profile, mode)
    secret = profile.signing_secret.encode()  # type: ignore[union-attr]
    sha1 = hmac.new(secret, BODY, hashlib.sha1).hexdigest()
    request = (
        profile.sign().replace(profile.sig_header, None).replace("X-Hub-Signature", "sha1=" + sha1)
    )
    exc = h.reject(
        request,
        MissingHeader,
        "missing_header",
        caplog=log,
        extra_secrets=[bytes.fromhex(sha1)],  # type: ignore[arg-type]
    )
    assert exc.status_code == 401


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("stripe", "t={ts},v0={hex}"),
        ("stripe", "t={ts},v0={hex},v2={hex}"),
        ("standard-webhooks-v1", "v2,{b64}"),
        ("standard-webhooks-v1", "V1,{b64}"),
        ("standard-webhooks-v1", "v1b,{b64} v0,{b64}"),
        ("paddle", "ts={ts};h2={hex}"),
        ("workos", "t={ts}000, v2={hex}"),
    ],
)
def test_row14_unsupported_versions(name: str, value: str, mode: str, log: object) -> None:
    profile = BY_NAME[name]
    h = Harness(profile, mode)
    genuine = profile.sign()
    raw = profile.sig_bytes(genuine)
    text = value.format(ts=NOW, hex=raw.hex(), b64=base64.b64encode(raw).decode())
    exc = h.reject(
        genuine.replace(profile.sig_header, text),
        SignatureMismatch,
        "no_supported_signature",
        caplog=log,  # type: ignore[arg-type]
    )
    assert exc.status_code == 401


def test_row15_hmac_keyed_with_the_public_key(mode: str, log: object) -> None:
    profile = BY_NAME["standard-webhooks-v1a"]
    h = Harness(profile, mode)
    genuine = profile.sign()
    public_text = profile.secrets[0]  # type: ignore[index]
    assert isinstance(public_text, str)
    assert public_text.startswith("whpk_")
    public_raw = base64.b64decode(public_text[5:])
    prefix = f"{genuine.get('webhook-id')}.{NOW}.".encode()
    for key in (public_raw, public_text.encode(), public_text[5:].encode()):
        mac = hmac.new(key, prefix + BODY, hashlib.sha256).digest()
        request = genuine.replace("webhook-signature", "v1," + base64.b64encode(mac).decode())
        exc = h.reject(
            request, SignatureMismatch, "signature_mismatch", caplog=log, extra_secrets=[mac]
        )  # type: ignore[arg-type]
        assert exc.status_code == 401


@pytest.mark.parametrize(
    "name",
    ["standard-webhooks-v1a", "discord", pytest.param("rfc9421-ed25519", marks=pytest.mark.extras)],
)
def test_row16_ed25519_wrong_lengths_keys_and_bodies(name: str, mode: str, log: object) -> None:
    profile = BY_NAME[name]
    h = Harness(profile, mode)
    genuine = profile.sign()
    raw = profile.sig_bytes(genuine)
    assert len(raw) == 64
    for wrong in (raw[:63], raw + b"\x00", raw[:32], bytes(64), raw[::-1]):
        h.reject(
            profile.with_sig_text(genuine, profile.encode(wrong)), SignatureMismatch, caplog=log
        )  # type: ignore[arg-type]
    h.reject(profile.sign(other=True), SignatureMismatch, caplog=log)  # type: ignore[arg-type]
    h.reject(genuine.with_body(BODY + b" "), SignatureMismatch, caplog=log)  # type: ignore[arg-type]
    h.reject(profile.with_sig_text(genuine, "%%not-encoded%%"), MalformedHeader, caplog=log)  # type: ignore[arg-type]
    h.accept(genuine)


# -- rows 17-20: timestamps ----------------------------------------------------------------


@pytest.mark.parametrize("profile", TIMED)
def test_row17_too_old(profile: Profile, mode: str, log: object) -> None:
    h = Harness(profile, mode)
    exc = h.reject(
        profile.sign(timestamp=NOW - TOLERANCE - 1),
        TimestampOutOfTolerance,
        "timestamp_too_old",
        caplog=log,  # type: ignore[arg-type]
    )
    assert exc.status_code == 401
    h.accept(profile.sign(timestamp=NOW - TOLERANCE))


@pytest.mark.parametrize("ahead", [TOLERANCE + 1, 86400, 100 * 365 * 86400])
@pytest.mark.parametrize("profile", TIMED)
def test_row18_in_future(profile: Profile, mode: str, ahead: int, log: object) -> None:
    h = Harness(profile, mode)
    exc = h.reject(
        profile.sign(timestamp=NOW + ahead),
        TimestampOutOfTolerance,
        "timestamp_in_future",
        caplog=log,  # type: ignore[arg-type]
    )
    assert exc.status_code == 401


BAD_TIMESTAMPS = [
    "",
    " 1700000000",
    "1700000000.5",
    "1e9",
    "-1",
    "0x65",
    "\uff11\uff17\uff10\uff10\uff10\uff10\uff10\uff10\uff10\uff10",
    "9" * 5000,
    "nan",
    "inf",
    "1_700_000_000",
    "+1700000000",
    "\u0661\u0667\u0660\u0660",
    "\u00b2",
]


@pytest.mark.parametrize("profile", TIMED)
def test_row19_malformed_timestamps(profile: Profile, mode: str, log: object) -> None:
    h = Harness(profile, mode)
    genuine = profile.sign()
    for text in BAD_TIMESTAMPS:
        request = profile.with_ts_text(genuine, text)
        if text == "" and profile.ts_header is not None:
            h.reject(request, MissingHeader, "missing_header")
            continue
        exc = h.reject(
            request,
            MalformedHeader,
            {"malformed_timestamp", "malformed_header", "header_too_long"},
            caplog=log,  # type: ignore[arg-type]
        )
        clean = text.isascii() and text.isprintable() and len(text) < 100 and text.strip() == text
        if clean and profile.ts_header is not None:
            assert exc.reason == "malformed_timestamp", (text, repr(exc))


@pytest.mark.parametrize("profile", TIMED)
def test_row20_timestamp_moved(profile: Profile, mode: str, log: object) -> None:
    h = Harness(profile, mode)
    genuine = profile.sign()
    original = int(profile.ts_text(genuine))
    for delta in (1, -1):
        moved = profile.with_ts_text(genuine, str(original + delta * profile.ts_scale))
        exc = h.reject(moved, SignatureMismatch, caplog=log)  # type: ignore[arg-type]
        assert exc.status_code == 401
    h.accept(genuine)


# -- rows 21-25: replay and the nonce store ------------------------------------------------


@pytest.mark.parametrize("profile", REPLAY)
def test_row21_exact_replay(profile: Profile, mode: str, log: object) -> None:
    h = Harness(profile, mode)
    genuine = profile.sign()
    h.accept(genuine)
    assert len(h.store.calls) == 1
    for _ in range(3):
        exc = h.reject(genuine, ReplayedDelivery, "replayed", caplog=log, store_untouched=False)  # type: ignore[arg-type]
        assert exc.status_code == 409
    assert len(h.store) == 1


@pytest.mark.parametrize(
    "profile", _params(where(lambda p: p.signs_timestamp and p.replay_protected))
)
def test_row21_future_dated_replay_after_now_plus_tolerance(profile: Profile, mode: str) -> None:
    h = Harness(profile, mode)
    future = profile.sign(timestamp=NOW + TOLERANCE)
    h.accept(future)
    # Until timestamp + tolerance the time check still passes: the store must still refuse it.
    for step in (TOLERANCE, TOLERANCE + 1, 2 * TOLERANCE - 1, 2 * TOLERANCE):
        h.clock.set(NOW + step)
        h.reject(future, ReplayedDelivery, "replayed", store_untouched=False)
    h.clock.set(NOW + 2 * TOLERANCE + 1)
    h.reject(future, TimestampOutOfTolerance, "timestamp_too_old")


@pytest.mark.parametrize("profile", REPLAY)
def test_row22_forged_deliveries_never_reach_the_store(profile: Profile, mode: str) -> None:
    count = 10_000 if profile.name in ("standard-webhooks-v1", "hmac-generic") else 300
    h = Harness(profile, "verify-lines", {"on_event": lambda event: None})
    genuine = profile.sign()
    raw = profile.sig_bytes(genuine)
    forged_text = profile.encode(bytes(len(raw)))
    template = profile.with_sig_text(genuine, forged_text)
    for i in range(count):
        request = template
        if profile.id_header is not None:
            request = template.replace(profile.id_header, f"msg_{i:08d}")
        with pytest.raises(SignatureMismatch):
            h.run(request)
    assert h.store.calls == []
    assert len(h.store) == 0


@pytest.mark.parametrize("profile", REPLAY)
def test_row23_full_store_refuses_without_evicting(
    profile: Profile, mode: str, log: object
) -> None:
    store = RecordingStore(MemoryNonceStore(max_entries=3))
    h = Harness(profile, mode, store=store)
    accepted = [
        profile.sign(
            BODY.replace(b"4200", str(4200 + i).encode()), timestamp=NOW - i, msg_id=f"msg_{i}"
        )
        for i in range(3)
    ]
    for request in accepted:
        h.accept(request)
    exc = h.reject(
        profile.sign(BODY.replace(b"4200", b"4299"), timestamp=NOW - 10, msg_id="msg_new"),
        NonceStoreUnavailable,
        "nonce_store_full",
        caplog=log,  # type: ignore[arg-type]
        store_untouched=False,
    )
    assert exc.status_code == 503
    for request in accepted:
        h.reject(request, ReplayedDelivery, "replayed", store_untouched=False)


@pytest.mark.parametrize("profile", WITH_ID)
def test_row25_hostile_message_ids(
    profile: Profile, mode: str, monkeypatch: pytest.MonkeyPatch, log: object
) -> None:
    counter = CryptoCounter(monkeypatch)
    genuine = profile.sign()
    assert profile.id_header is not None
    h = Harness(profile, mode)
    h.reject(
        genuine.replace(profile.id_header, "m" * 10_000),
        MalformedHeader,
        "header_too_long",
        caplog=log,
    )  # type: ignore[arg-type]
    # With the header cap out of the way, the id length cap (max_id_length) refuses it.
    h = Harness(profile, mode, {"max_header_bytes": 1 << 20})
    h.reject(genuine.replace(profile.id_header, "m" * 10_000), MalformedHeader, MALFORMED)
    for bad in ("msg\x00id", "msg\tid", "msg\r\nid", "msg\x1bid", "msg id", "msgé"):
        h.reject(genuine.replace(profile.id_header, bad), MalformedHeader, MALFORMED, caplog=log)  # type: ignore[arg-type]
    if profile.id_separator:
        h.reject(genuine.replace(profile.id_header, "msg.1"), MalformedHeader, MALFORMED)
        # The id cannot shift the boundary of the signed fields: "a.b" + "1700..." style forgery.
        h.reject(
            profile.sign(msg_id="a").replace(profile.id_header, "a.1"), MalformedHeader, MALFORMED
        )
    assert counter.count == 0


# -- row 26: bodies over the limit ---------------------------------------------------------


@pytest.mark.parametrize("profile", ALL)
def test_row26_body_over_limit(
    profile: Profile, mode: str, monkeypatch: pytest.MonkeyPatch, log: object
) -> None:
    counter = CryptoCounter(monkeypatch)
    limit = len(BODY)
    h = Harness(profile, mode, {"max_body_bytes": limit})
    counter.wrap_keys(h)
    h.accept(profile.sign(BODY))
    assert counter.count > 0 or profile.encoding == "token"
    counted = counter.count
    big = BODY + b"x"
    exc = h.reject(profile.sign(big), PayloadTooLarge, "payload_too_large", caplog=log)  # type: ignore[arg-type]
    assert exc.status_code == 413
    exc = h.reject(profile.sign(big).replace(profile.sig_header, None), PayloadTooLarge)
    # Checked before anything else: no header is even read, no MAC computed for the big body.
    assert counter.count == counted


# -- rows 27-28: addresses -----------------------------------------------------------------


@pytest.mark.parametrize("profile", ALL)
def test_row27_forwarded_for_spoofing(
    profile: Profile, mode: str, monkeypatch: pytest.MonkeyPatch, log: object
) -> None:
    counter = CryptoCounter(monkeypatch)
    genuine = profile.sign()
    direct = Harness(profile, mode, {"allowlist": IPAllowlist(["10.0.0.0/8"])})
    proxied = Harness(
        profile,
        mode,
        {"allowlist": IPAllowlist(["10.0.0.0/8"], trusted_proxies=["192.168.0.0/16"])},
    )
    counter.wrap_keys(direct)
    counter.wrap_keys(proxied)
    cases = [
        (direct, "203.0.113.9", "10.1.2.3", "forbidden_address"),
        (proxied, "192.168.1.1", "10.1.2.3, 203.0.113.9", "forbidden_address"),
        (proxied, "192.168.1.1", "unknown", "malformed_address"),
        (proxied, "192.168.1.1", "10.1.2.3:80", "malformed_address"),
        (proxied, "192.168.1.1", "[::1]", "malformed_address"),
        (proxied, "192.168.1.1", "10.1.2.3, [10.1.2.3]", "malformed_address"),
        (proxied, "192.168.1.1", ", ".join(["10.1.2.3"] * 1000), "forbidden_address"),
        (proxied, "203.0.113.9", "10.1.2.3", "forbidden_address"),
    ]
    for harness, peer, xff, reason in cases:
        harness.remote_addr = peer
        exc = harness.reject(
            genuine.replace("X-Forwarded-For", xff),
            ForbiddenAddress,
            reason,
            caplog=log,  # type: ignore[arg-type]
        )
        assert exc.status_code == 403
    # Two X-Forwarded-For lines are combined in order: the right-most untrusted entry counts.
    proxied.remote_addr = "192.168.1.1"
    two_lines = genuine.replace("X-Forwarded-For", "10.1.2.3")
    two_lines.headers.insert(0, ("X-Forwarded-For", "10.9.9.9"))
    two_lines.headers.append(("X-Forwarded-For", "203.0.113.9"))
    if mode == "verify-lines":
        proxied.reject(two_lines, ForbiddenAddress, "forbidden_address")
    assert counter.count == 0
    proxied.accept(genuine.replace("X-Forwarded-For", "203.0.113.9, 10.1.2.3"))


@pytest.mark.parametrize("profile", ALL)
def test_row28_address_forms(profile: Profile, mode: str, log: object) -> None:
    h = Harness(profile, mode, {"allowlist": IPAllowlist(["10.0.0.0/8"])})
    genuine = profile.sign()
    for address, reason in [
        ("::ffff:8.8.8.8", "forbidden_address"),
        ("fe80::1%eth0", "malformed_address"),
        ("010.1.2.3", "malformed_address"),
        ("2002:a01:203::1", "forbidden_address"),
        ("10.1.2.3 ", "malformed_address"),
        ("", "malformed_address"),
        (None, "forbidden_address"),
    ]:
        h.remote_addr = address
        exc = h.reject(genuine, ForbiddenAddress, reason, caplog=log)  # type: ignore[arg-type]
        assert exc.status_code == 403
    h.remote_addr = "::ffff:10.1.2.3"
    h.accept(genuine)


# -- row 29 (core form): a consumed body ---------------------------------------------------


@pytest.mark.parametrize("profile", BODY_SIGNED)
def test_row29_consumed_body_is_a_mismatch(profile: Profile, mode: str, log: object) -> None:
    h = Harness(profile, mode)
    genuine = profile.sign()
    exc = h.reject(genuine.with_body(b""), SignatureMismatch, caplog=log)  # type: ignore[arg-type]
    assert exc.status_code == 401
    h.accept(genuine)


@pytest.mark.parametrize("profile", ALL)
def test_every_profile_accepts_its_genuine_delivery(profile: Profile, mode: str) -> None:
    Harness(profile, mode).accept(profile.sign())
    assert profile.name in IDS
