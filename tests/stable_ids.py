"""Test ids that are the same in every process (pytest-xdist compares the workers' lists)."""

from __future__ import annotations

import re

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def stable_repr(value: object) -> str:
    """``repr(value)`` without the memory addresses default reprs carry."""
    return _ADDRESS.sub("", repr(value))
