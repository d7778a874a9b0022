"""The one provider registry: every row loads, names are unique, and every tool derives from it."""

from __future__ import annotations

import pytest

import hookseal.schemes
from hookseal import ConfigurationError
from hookseal.schemes import _registry
from hookseal.schemes._registry import PROVIDERS, by_name, load_class, scheme_by_name
from hookseal.schemes.base import Scheme


@pytest.mark.parametrize("row", PROVIDERS, ids=lambda row: row.name)
def test_every_row_names_a_scheme_class_exported_by_hookseal_schemes(row) -> None:
    cls = load_class(row)
    assert issubclass(cls, Scheme)
    assert getattr(hookseal.schemes, row.cls) is cls
    assert row.cls in hookseal.schemes.__all__  # the static list type checkers read
    for described in (row.family, row.algorithm, row.replay, row.tested):
        assert described


@pytest.mark.parametrize("row", PROVIDERS, ids=lambda row: row.name)
def test_rows_that_build_alone_build_with_the_registry_name(row) -> None:
    if row.builds_alone:
        assert isinstance(scheme_by_name(row.name), load_class(row))
        for alias in row.aliases:
            assert type(scheme_by_name(alias.upper())) is load_class(row)
    else:
        with pytest.raises(ConfigurationError, match="needs arguments"):
            scheme_by_name(row.name)


def test_names_and_aliases_are_unique_and_lowercase() -> None:
    names = [name for row in PROVIDERS for name in (row.name, *row.aliases)]
    assert len(names) == len(set(names))
    assert all(name == name.lower() and " " not in name for name in names)
    assert all(header == header.lower() for row in PROVIDERS for header in row.headers)


def test_an_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"choose one of: .*github"):
        by_name("nope")


def test_headers_identify_their_senders() -> None:
    assert [row.name for row in _registry.providers_sending("Stripe-Signature")] == ["stripe"]
    assert _registry.providers_sending("X-Unrelated") == ()


def test_the_command_line_offers_every_buildable_name() -> None:
    names = _registry.buildable_names()
    assert {"github", "svix"} <= set(names)
    assert not {"hmac", "rfc9421"} & set(names)
