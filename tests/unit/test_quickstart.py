"""examples/quickstart.py runs as documented and reports the expected verdicts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart.py"


def test_quickstart_runs_and_every_verdict_is_expected():
    result = subprocess.run(
        [sys.executable, str(QUICKSTART)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    verdicts = [line for line in lines if line.startswith(("ok ", "BAD"))]
    assert len(verdicts) == 6
    assert all(line.startswith("ok ") for line in verdicts)
    outcomes = [line[36:56].strip() for line in verdicts]  # the fixed-width outcome column
    assert outcomes == [
        "accepted",
        "replayed",
        "signature_mismatch",
        "timestamp_too_old",
        "signature_mismatch",
        "missing_header",
    ]
    assert lines[-1] == "all verdicts as expected"
    assert "quickstart-demo-secret" not in result.stdout + result.stderr
