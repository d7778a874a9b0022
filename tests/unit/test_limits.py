"""Limits: separate bounds for a timestamp's age and for clock skew (max_age, max_future)."""

from __future__ import annotations

import math

import pytest

from hookseal import ConfigurationError, TimestampOutOfTolerance
from hookseal._limits import EARLIEST_TIMESTAMP, Limits

NOW = 1_700_000_000


def test_both_default_to_the_tolerance() -> None:
    limits = Limits(tolerance=60)
    assert (limits.max_age, limits.max_future) == (60, 60)
    assert repr(limits).startswith("Limits(tolerance=60, max_body_bytes=")


def test_max_age_one_day_no_future() -> None:
    # What RFC 9421 users and stripe-php#657 asked for: accept a day-old delivery, refuse
    # any timestamp ahead of this server's clock.
    limits = Limits(tolerance=300, max_age=86_400, max_future=0)
    assert "max_age=86400, max_future=0" in repr(limits)
    for timestamp in (NOW, NOW - 86_400, NOW - 301):
        limits.check_window(timestamp, NOW, "t")
        assert limits.in_window(timestamp, NOW)
    with pytest.raises(TimestampOutOfTolerance) as info:
        limits.check_window(NOW - 86_401, NOW, "t")
    assert info.value.reason == "timestamp_too_old"
    assert "max_age" in str(info.value)
    assert not limits.in_window(NOW - 86_401, NOW)
    with pytest.raises(TimestampOutOfTolerance) as info:
        limits.check_window(NOW + 1, NOW, "t")
    assert info.value.reason == "timestamp_in_future"
    assert info.value.timestamp == NOW + 1
    assert not limits.in_window(NOW + 1, NOW)


@pytest.mark.parametrize(("max_age", "max_future"), [(10, 500), (500, 10), (0, 0)])
def test_each_bound_applies_to_its_side_only(max_age: int, max_future: int) -> None:
    limits = Limits(tolerance=300, max_age=max_age, max_future=max_future)
    for timestamp, accepted in (
        (NOW - max_age, True),
        (NOW - max_age - 1, False),
        (NOW + max_future, True),
        (NOW + max_future + 1, False),
    ):
        assert limits.in_window(timestamp, NOW) is accepted
        if accepted:
            limits.check_window(timestamp, NOW, "t")
        else:
            with pytest.raises(TimestampOutOfTolerance):
                limits.check_window(timestamp, NOW, "t")


def test_the_2001_floor_holds_whatever_max_age() -> None:
    limits = Limits(tolerance=300, max_age=2**53 - 1)
    limits.check_window(EARLIEST_TIMESTAMP, NOW, "t")
    with pytest.raises(TimestampOutOfTolerance) as info:
        limits.check_window(EARLIEST_TIMESTAMP - 1, NOW, "t")
    assert info.value.reason == "timestamp_too_old"
    assert not limits.in_window(EARLIEST_TIMESTAMP - 1, NOW)
    assert not limits.in_window(0, 5.0)  # a frozen early clock lowers the floor to 1 only


def test_nan_clock_fails_closed() -> None:
    limits = Limits(max_age=0, max_future=0)
    assert not limits.in_window(NOW, math.nan)
    with pytest.raises(TimestampOutOfTolerance):
        limits.check_window(NOW, math.nan, "t")


@pytest.mark.parametrize("name", ["max_age", "max_future"])
@pytest.mark.parametrize("value", [-1, 1.5, "60", True, math.inf, math.nan, 2**53])
def test_invalid_bounds_are_configuration_errors(name: str, value: object) -> None:
    with pytest.raises(ConfigurationError, match=name):
        Limits(**{name: value})  # type: ignore[arg-type]


def test_whole_float_bounds_are_taken_as_ints() -> None:
    limits = Limits(max_age=60.0, max_future=0.0)  # type: ignore[arg-type]
    assert (limits.max_age, limits.max_future) == (60, 0)
    assert type(limits.max_age) is int


def test_bounds_are_read_only() -> None:
    limits = Limits(max_age=10)
    with pytest.raises(AttributeError):
        limits.max_age = 99  # type: ignore[misc]


def test_body_limit_none_is_the_generic_default() -> None:
    assert Limits(max_body_bytes=None).max_body_bytes == 1024 * 1024


def test_repr_shows_every_limit() -> None:
    limits = Limits(tolerance=60, max_body_bytes=10, max_header_bytes=20, max_signatures=3)
    assert repr(limits) == (
        "Limits(tolerance=60, max_body_bytes=10, max_header_bytes=20, max_signatures=3, "
        f"max_id_length={limits.max_id_length})"
    )


def test_a_verifiers_limits_cannot_be_changed_or_deleted() -> None:
    """The verifier prepares its checks from its limits once: a change would reach some paths."""
    from hookseal import Verifier
    from hookseal.schemes import Stripe

    verifier = Verifier(Stripe(), "whsec_stripe_secret", nonce_store=None)
    with pytest.raises(AttributeError, match="read-only"):
        verifier.limits.tolerance = 10  # type: ignore[misc]
    with pytest.raises(AttributeError, match="read-only"):
        del verifier.limits.max_header_bytes  # type: ignore[misc]


def test_a_tolerance_beyond_2_53_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="2\\*\\*53"):
        Limits(tolerance=10**400)
