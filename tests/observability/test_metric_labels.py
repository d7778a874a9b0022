"""The closed sets behind the metric labels, and the extras staying out of the core.

No extra needed: these run in the no-extras session too.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from hookseal import VerificationError
from hookseal.contrib._metrics import NO_REASON, OTHER, REASONS

SRC = Path(__file__).resolve().parents[2] / "src" / "hookseal"
OPTIONAL = ("prometheus_client", "opentelemetry")


def reasons_in_source() -> set[str]:
    """Every reason code written in hookseal's source: ``reason="..."`` keyword arguments
    (also ``reason = "a" if ... else None`` assignments) and ``default_reason`` attributes."""
    found: set[str] = set()

    def strings(node: ast.AST | None) -> set[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, ast.IfExp):
            return strings(node.body) | strings(node.orelse)
        return set()

    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "reason":
                found |= strings(node.value)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = {t.id for t in targets if isinstance(t, ast.Name)}
                if names & {"default_reason", "reason"}:
                    found |= strings(node.value)
    return found


def test_every_reason_hookseal_raises_is_in_the_closed_set() -> None:
    in_source = reasons_in_source()
    # The scan itself finds reasons (a control: a scan that found nothing would pass too).
    assert {"signature_mismatch", "replayed", "nonce_store_full", "verification_failed"} <= (
        in_source
    )
    missing = in_source - REASONS
    assert not missing, (
        f"reason codes {sorted(missing)} are counted as {OTHER!r}: add them to "
        "hookseal.contrib._metrics.REASONS"
    )


def test_the_closed_set_holds_no_stale_reason() -> None:
    assert set(REASONS) - reasons_in_source() == set()


def test_the_special_labels_are_not_reasons() -> None:
    assert NO_REASON not in REASONS
    assert OTHER not in REASONS
    assert VerificationError.default_reason in REASONS


def test_importing_hookseal_loads_neither_prometheus_nor_opentelemetry() -> None:
    script = (
        "import json, sys\n"
        "import hookseal, hookseal.contrib, hookseal.contrib._metrics\n"
        "from hookseal import Signer, Verifier\n"
        "from hookseal.schemes import HMACScheme\n"
        "scheme = HMACScheme('X-Signature')\n"
        "Verifier(scheme, 's', nonce_store=None).verify(b'x', Signer(scheme, 's').sign(b'x'))\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({OPTIONAL!r}))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, timeout=60
    )
    assert json.loads(out.stdout) == []


def test_the_import_probe_would_notice_an_extra() -> None:
    # The control: the same probe reports a module once something imports it.
    script = (
        "import json, sys, email.message\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'email'})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, timeout=60
    )
    assert json.loads(out.stdout) == ["email"]
