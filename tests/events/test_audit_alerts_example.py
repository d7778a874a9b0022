"""examples/audit_alerts.py runs standalone, alerts once on the burst, and leaks nothing."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from hookseal import VerificationEvent

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "audit_alerts.py"


def test_example_runs_and_alerts_once() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    alerts = [line for line in out.splitlines() if line.startswith("ALERT:")]
    assert len(alerts) == 1
    assert "198.51.100.7" in alerts[0]
    assert "8  signature_mismatch" in out
    assert "1  timestamp_too_old" in out
    assert "accepted: 3, alerts raised: 1" in out
    # Neither the demo secret nor the forged body reaches the output.
    assert "example-secret-do-not-use" not in out + result.stderr
    assert '"refund"' not in out + result.stderr


def _load_monitor() -> type:
    spec = importlib.util.spec_from_file_location("audit_alerts", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.RejectionMonitor  # type: ignore[no-any-return]


def _event(reason: str | None, peer: str = "198.51.100.7") -> VerificationEvent:
    return VerificationEvent(
        outcome="accepted" if reason is None else "rejected",
        reason=reason,
        scheme="hmac",
        msg_id=None,
        timestamp=None,
        key_index=None,
        remote_addr=peer,
        duration=0.0,
        status_code=200 if reason is None else 401,
    )


def test_monitor_alerts_per_burst_and_window() -> None:
    clock = [0.0]
    alerts: list[str] = []
    monitor = _load_monitor()(threshold=3, window=10, alert=alerts.append, clock=lambda: clock[0])
    for _ in range(2):
        monitor(_event("signature_mismatch"))
    monitor(_event("timestamp_too_old"))  # not a signature failure
    monitor(_event("signature_mismatch", peer="192.0.2.1"))  # another peer
    assert alerts == []
    monitor(_event("signature_mismatch"))
    assert len(alerts) == 1
    monitor(_event("signature_mismatch"))  # same burst: no second alert
    assert len(alerts) == 1
    clock[0] = 100.0  # the window slides past; a new burst alerts again
    for _ in range(3):
        monitor(_event("signature_mismatch"))
    assert len(alerts) == 2
    monitor(_event(None))
    assert monitor.accepted == 1
    assert monitor.rejections[("signature_mismatch", "198.51.100.7")] == 7
