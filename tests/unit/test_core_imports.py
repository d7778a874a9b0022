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
