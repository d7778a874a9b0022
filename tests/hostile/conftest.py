"""Fixtures for the hostile-input suite."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """caplog recording every level of the ``hookseal`` logger, for the leak audit."""
    caplog.set_level(logging.DEBUG, logger="hookseal")
    return caplog
