"""Scheme tests run with the fast checks (``fast``) and without (``general``) where one exists.

See ``tests/check_paths.py``. A module that compares the two paths itself (test_fast_checks.py)
overrides ``check_path`` with a fixture of the same name that runs once. Write hypothesis tests
as module-level functions: a ``@given`` method of a class runs from two instances (one per
param), which hypothesis refuses (HealthCheck.differing_executors).
"""

from __future__ import annotations

from check_paths import check_path as check_path
from check_paths import pytest_generate_tests as pytest_generate_tests
