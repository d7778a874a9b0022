"""The version is declared once (hookseal.__version__) and the package metadata reads it."""

from __future__ import annotations

from importlib.metadata import version

import hookseal


def test_the_installed_metadata_carries_the_one_declared_version() -> None:
    assert version("hookseal") == hookseal.__version__
