"""The pytest plugin, as a user gets it: a fresh test file, fixtures found via the entry point."""

from __future__ import annotations

import pytest

from hookseal import Signer, Verifier
from hookseal.schemes import Stripe
from hookseal.stores.memory import MemoryNonceStore
from hookseal.testing import FrozenClock, SignedDelivery, sign_delivery

FRESH_TESTS = """
import pytest
from hookseal import TimestampOutOfTolerance, Verifier
from hookseal.stores.memory import MemoryNonceStore
from hookseal.schemes import GitHub, StandardWebhooks

SECRET = "whsec_dGVzdC1zZWNyZXQtZm9yLXRoZS1wbHVnaW4tdGVzdHM="


def test_the_plugin_came_from_the_entry_point(request):
    plugin = request.config.pluginmanager.get_plugin("hookseal")
    assert plugin is not None and plugin.__name__ == "hookseal.testing.plugin"


def test_hookseal_sign_by_name(hookseal_sign):
    delivery = hookseal_sign("github", "s3cret", b'{"zen": "ok"}')
    verified = Verifier(GitHub(), "s3cret", nonce_store=None).verify(
        delivery.body, delivery.headers
    )
    assert verified.body == b'{"zen": "ok"}'
    assert delivery.all_headers()["Content-Type"] == "application/json"


def test_frozen_clock_stale_after_advance(hookseal_sign, frozen_clock):
    verifier = Verifier(StandardWebhooks(), SECRET, nonce_store=MemoryNonceStore())
    delivery = hookseal_sign("standard-webhooks", SECRET)
    assert delivery.headers["webhook-timestamp"] == str(int(frozen_clock.now))
    frozen_clock.advance(300)
    verifier.verify(delivery.body, delivery.headers)
    frozen_clock.advance(1)
    again = hookseal_sign("standard-webhooks", SECRET, timestamp=int(frozen_clock.now) - 301)
    with pytest.raises(TimestampOutOfTolerance):
        verifier.verify(again.body, again.headers)


def test_frozen_clock_can_be_set(frozen_clock):
    frozen_clock.set(1_700_000_000)
    assert frozen_clock() == 1_700_000_000.0
"""


@pytest.fixture(autouse=True)
def _strict_ini(pytester: pytest.Pytester) -> None:
    # What a strict user project has (and pytest-asyncio, installed here, asks for).
    pytester.makeini(
        """
        [pytest]
        addopts = --strict-markers
        filterwarnings = error
        asyncio_default_fixture_loop_scope = function
        """
    )


def test_fixtures_work_in_a_fresh_test_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=FRESH_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_fixtures_work_in_a_fresh_process(pytester: pytest.Pytester) -> None:
    # A separate interpreter: only the installed entry point can provide the fixtures.
    pytester.makepyfile(test_user=FRESH_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_without_the_plugin_the_fixtures_are_unknown(pytester: pytest.Pytester) -> None:
    # The control for the two tests above: the fixtures come from the plugin, nowhere else.
    pytester.makepyfile(test_user=FRESH_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:hookseal")
    result.assert_outcomes(passed=0, errors=3, failed=1)
    result.stdout.fnmatch_lines(["*fixture 'hookseal_sign' not found*"])


def test_frozen_clock_is_undone_after_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_order="""
        import time
        from hookseal import _verifier

        def test_a(frozen_clock):
            frozen_clock.set(1)
            assert _verifier.default_clock() == 1

        def test_b():
            assert abs(_verifier.default_clock() - time.time()) < 60
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_a_verifier_with_its_own_clock_ignores_the_fixture(frozen_clock: FrozenClock) -> None:
    own = FrozenClock(1_700_000_000)
    verifier = Verifier(Stripe(), "whsec_x", nonce_store=None, clock=own)
    frozen_clock.set(5)
    headers = Signer(Stripe(), "whsec_x").sign(b"{}", timestamp=1_700_000_000)
    assert verifier.verify(b"{}", headers).timestamp == 1_700_000_000


def test_sign_delivery_defaults_to_hookseal_clock(frozen_clock: FrozenClock) -> None:
    frozen_clock.set(1_600_000_000)
    delivery = sign_delivery("stripe", "whsec_x", b"{}")
    assert delivery.headers["Stripe-Signature"].startswith("t=1600000000,")


def test_signed_delivery_helpers() -> None:
    delivery = sign_delivery("github", "k", b'{"a": 1}', msg_id="abc", content_type=None)
    assert delivery.extra_headers == {}
    assert delivery.headers["X-GitHub-Delivery"] == "abc"
    tampered = delivery.tampered()
    assert tampered.body != delivery.body
    assert len(tampered.body) == len(delivery.body)
    assert tampered.headers == delivery.headers
    assert delivery.tampered(b"other").body == b"other"
    assert "X-Hub-Signature-256" not in delivery.without("x-hub-signature-256").headers
    assert SignedDelivery(b"", {}).tampered().body == b"x"


def test_sign_delivery_with_a_scheme_object_and_url() -> None:
    from hookseal.schemes import Twilio

    url = "http://testserver/sms"
    delivery = sign_delivery(
        Twilio(), "token", b"A=1", url=url, content_type="application/x-www-form-urlencoded"
    )
    verifier = Verifier(Twilio(), "token", nonce_store=MemoryNonceStore())
    assert verifier.verify(delivery.body, delivery.all_headers(), url=url).scheme == "twilio"
