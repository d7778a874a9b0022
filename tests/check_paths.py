"""Run every test of a directory twice: with the schemes' prepared fast checks, and without.

A scheme may prepare a fast check for the common delivery (``Scheme.prepare_fast_check``); the
:class:`~hookseal.Verifier` tries it first and leaves whatever it declines to ``Scheme.check``.
The two are two implementations of one contract, so the same tests run against both, the way
CPython runs its json tests against the C and the pure-Python scanners. A conftest imports
:func:`check_path` (an autouse fixture with the params ``fast`` and ``general``):

- ``fast``: nothing changes; the verifier uses each scheme's fast check, as in production.
- ``general``: every scheme's ``prepare_fast_check`` returns None, so ``Scheme.check`` decides
  every delivery alone.

A bug in either path then fails some test under one of the params: a fast check that accepts a
forgery fails the forgery tests under ``fast``; a general check that refuses a genuine delivery
(hidden in production by the fast check accepting it first) fails under ``general``.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from typing import Any

import pytest

import hookseal.schemes
from hookseal.schemes.base import FastCheck, Limits, Scheme

CHECK_PATHS = ("fast", "general")


def _roots() -> set[type[Scheme]]:
    base = sys.modules.get("hookseal.schemes.base")
    return {Scheme, getattr(base, "Scheme", Scheme)}


def scheme_classes() -> list[type[Scheme]]:
    """Every Scheme subclass, after importing each scheme hookseal.schemes exports.

    Both the classes imported when this module was (the ones test modules imported at
    collection) and, should some test have purged hookseal from ``sys.modules``, the classes
    of the hookseal imported since.
    """
    packages = [hookseal.schemes, sys.modules.get("hookseal.schemes", hookseal.schemes)]
    for package in packages:
        for name in package.__all__:
            with contextlib.suppress(ImportError):  # an optional dependency is not installed
                getattr(package, name)
    pending = list(_roots())
    found: list[type[Scheme]] = []
    while pending:
        kind = pending.pop()
        if kind not in found:
            found.append(kind)
            pending.extend(kind.__subclasses__())
    return found


def classes_with_fast_checks() -> list[type[Scheme]]:
    """The scheme classes that define their own ``prepare_fast_check``."""
    return [
        kind
        for kind in scheme_classes()
        if kind not in _roots() and "prepare_fast_check" in vars(kind)
    ]


def _no_fast_check(self: Scheme, keys: Sequence[Any], limits: Limits) -> FastCheck | None:
    return None


def disable_fast_checks(monkeypatch: pytest.MonkeyPatch) -> list[type[Scheme]]:
    """Make every scheme's ``prepare_fast_check`` return None; return the classes changed."""
    changed = classes_with_fast_checks()
    for kind in changed:
        monkeypatch.setattr(kind, "prepare_fast_check", _no_fast_check)
    return changed


def paths_for(module: object) -> tuple[str, ...]:
    """Both paths for a module that uses a scheme with a fast check; ``fast`` alone otherwise.

    Without a fast check the two runs are the same run. A module that exercises every scheme
    through names (the hostile checklist) sets ``CHECK_BOTH_PATHS = True``.
    """
    if getattr(module, "CHECK_BOTH_PATHS", False):
        return CHECK_PATHS
    fast = classes_with_fast_checks()
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, Scheme)
            and value not in _roots()
            and any(issubclass(kind, value) or issubclass(value, kind) for kind in fast)
        ):
            return CHECK_PATHS
    return ("fast",)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``check_path`` per module (see :func:`paths_for`)."""
    if "check_path" in metafunc.fixturenames and "check_path" not in vars(metafunc.module):
        metafunc.parametrize("check_path", paths_for(metafunc.module), indirect=True)


@pytest.fixture(autouse=True)
def check_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """``fast``: the verifier as shipped; ``general``: no scheme prepares a fast check."""
    path: str = getattr(request, "param", "fast")
    if path == "general":
        disable_fast_checks(monkeypatch)
    return path
