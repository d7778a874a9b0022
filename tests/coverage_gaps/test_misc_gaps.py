"""Small public behaviours the rest of the suite leaves unexercised: reprs, lazy exports, CLI."""

from __future__ import annotations

import pytest

import hookseal.schemes
import hookseal.stores
from hookseal import ConfigurationError, Headers, MalformedHeader, Verifier
from hookseal._addresses import IntervalSet
from hookseal._limits import Limits
from hookseal.schemes._registry import scheme_by_name
from hookseal.cli import main
from hookseal.schemes import HMACScheme
from hookseal.testing import FrozenClock, sign_delivery

NOW = 1_700_000_000


def test_interval_set_merges_overlapping_and_adjacent_intervals() -> None:
    intervals = IntervalSet([(10, 20), (1, 3), (4, 5), (15, 30), (40, 40)])
    assert len(intervals) == 3  # [1, 5], [10, 30], [40, 40]
    assert [v for v in (0, 1, 5, 6, 9, 10, 30, 31, 40, 41) if v in intervals] == [1, 5, 10, 30, 40]


def test_headers_one_with_a_mixed_case_name() -> None:
    assert Headers({"X-Signature": "v"}).one("X-Signature") == "v"
    with pytest.raises(MalformedHeader) as info:
        Headers([("X-Signature", "1"), ("x-signature", "2")]).one("X-Signature")
    assert info.value.reason == "duplicate_header"


def test_limits_repr_shows_every_limit() -> None:
    limits = Limits(tolerance=60, max_body_bytes=10, max_header_bytes=20, max_signatures=3)
    assert repr(limits) == (
        "Limits(tolerance=60, max_body_bytes=10, max_header_bytes=20, max_signatures=3, "
        f"max_id_length={limits.max_id_length})"
    )


def test_unknown_scheme_name_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"Unknown scheme 'nope'; choose one of: .*github"):
        scheme_by_name("nope")
    assert type(scheme_by_name("GitHub")).__name__ == "GitHub"  # names are case-insensitive


def test_lazy_packages_list_their_exports_and_refuse_others() -> None:
    assert dir(hookseal.schemes) == sorted(hookseal.schemes.__all__)
    assert "HTTPMessageSignatures" in dir(hookseal.schemes)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = hookseal.schemes.Nope  # type: ignore[attr-defined]
    assert dir(hookseal.stores) == sorted(hookseal.stores.__all__)
    assert "SQLiteNonceStore" in dir(hookseal.stores)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = hookseal.stores.Nope  # type: ignore[attr-defined]


def test_frozen_clock_repr() -> None:
    clock = FrozenClock(NOW)
    clock.advance(1.5)
    assert repr(clock) == f"FrozenClock(now={NOW + 1.5})"


def test_hmac_scheme_with_an_unsigned_optional_id_header() -> None:
    scheme = HMACScheme("X-Sig", id_header="X-Id")
    verifier = Verifier(scheme, "coverage-gaps-hmac-secret", nonce_store=None,
                        on_event=lambda _event: None)  # fmt: skip
    delivery = sign_delivery(scheme, "coverage-gaps-hmac-secret", b"{}", msg_id="id-1")
    without_id = delivery.without("X-Id")
    assert "X-Id" not in without_id.headers
    assert verifier.verify(without_id.body, without_id.headers, now=NOW).msg_id is None
    with pytest.raises(MalformedHeader):
        verifier.verify(b"{}", {**without_id.headers, "X-Id": "bad id\x01"}, now=NOW)


@pytest.mark.parametrize("ending", [b"\r\n", b"\n", b""])
def test_cli_secret_file_drops_one_line_ending(
    tmp_path: object, capsys: pytest.CaptureFixture[str], ending: bytes
) -> None:
    from pathlib import Path

    directory = Path(str(tmp_path))
    secret = "coverage-gaps-cli-secret"
    (directory / "secret").write_bytes(secret.encode() + ending)
    (directory / "body").write_bytes(b'{"ok": true}')
    delivery = sign_delivery("github", secret, b'{"ok": true}', timestamp=NOW)
    args = ["verify", "--scheme", "github", "--secret-file", str(directory / "secret"),
            "--body-file", str(directory / "body"), "--now", str(NOW)]  # fmt: skip
    for name, value in delivery.headers.items():
        args += ["-H", f"{name}: {value}"]
    assert main(args) == 0, capsys.readouterr()
    assert capsys.readouterr().out.startswith("verified: scheme=github")
    (directory / "secret").write_bytes(secret.encode() + ending + ending + b"x")
    assert main(args) == 1  # only one line ending is removed; anything else is the secret


@pytest.mark.extras
def test_django_send_helpers_default_the_content_type() -> None:
    """Without a Content-Type, Django requests go out as application/json (Django's own client)."""
    import django
    from django.conf import settings
    from django.test import RequestFactory

    if not settings.configured:  # another test module may have configured Django already
        settings.configure(SECRET_KEY="hookseal-coverage-gaps-only", ALLOWED_HOSTS=["*"],
                           INSTALLED_APPS=[], USE_TZ=True, LOGGING_CONFIG=None)  # fmt: skip
        django.setup()
    delivery = sign_delivery("github", "coverage-gaps-django", b"[1]", content_type=None)
    assert delivery.extra_headers == {}
    request = delivery.send_django(RequestFactory(), "/hook/")
    assert request.content_type == "application/json"
    assert request.body == b"[1]"
    assert request.headers["X-Hub-Signature-256"] == delivery.headers["X-Hub-Signature-256"]
    typed = sign_delivery("github", "coverage-gaps-django", b"a=1", content_type="text/plain")
    assert typed.send_django(RequestFactory(), "/hook/").content_type == "text/plain"
