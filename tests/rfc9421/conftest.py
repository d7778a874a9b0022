"""RFC 9421 tests run on both verification paths once HTTPMessageSignatures has a fast check.

See ``tests/check_paths.py``: a module runs with and without the fast checks when a scheme it
uses prepares one. HTTPMessageSignatures prepares none today, so each test runs once; a future
fast check meets every test here on day one.
"""

from __future__ import annotations

from check_paths import check_path as check_path
from check_paths import pytest_generate_tests as pytest_generate_tests
