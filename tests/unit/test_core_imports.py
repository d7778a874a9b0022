"""The core imports nothing optional: no web framework, no redis, no http-sf."""

from __future__ import annotations

import subprocess
import sys

OPTIONAL = ("flask", "werkzeug", "django", "starlette", "fastapi", "redis", "http_sf")

SCRIPT = f"""
import sys
import hookseal, hookseal.schemes
from hookseal.schemes import HMACScheme
from hookseal import Signer, Verifier
scheme = HMACScheme("X-Signature")
Verifier(scheme, secrets="s", nonce_store=None).verify(
    b"x", Signer(scheme, secret="s").sign(b"x")
)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {OPTIONAL!r})
print(",".join(loaded))
"""


def test_core_import_loads_no_optional_module():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == ""


def test_the_check_would_notice_an_optional_module():
    """Control: the same probe does report a module once it is imported."""
    script = "import sys, json\n" + SCRIPT.replace(repr(OPTIONAL), repr((*OPTIONAL, "json")))
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert "json" in result.stdout.strip().split(",")


def test_lazy_packages_list_their_exports_and_refuse_other_names() -> None:
    import pytest

    import hookseal.schemes
    import hookseal.stores

    assert dir(hookseal.schemes) == sorted(hookseal.schemes.__all__)
    assert "HTTPMessageSignatures" in dir(hookseal.schemes)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = hookseal.schemes.Nope  # type: ignore[attr-defined]
    assert dir(hookseal.stores) == sorted(hookseal.stores.__all__)
    assert "SQLiteNonceStore" in dir(hookseal.stores)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = hookseal.stores.Nope  # type: ignore[attr-defined]
