"""Audit events: count rejections per reason and peer, and alert on a burst of forgeries.

Run it: ``python examples/audit_alerts.py``. It verifies a few genuine deliveries, then a burst
of forged ones from one address, and prints the alert and the counts. In an application, pass
the monitor as ``Verifier(..., on_event=monitor)`` (or to an adapter, which passes it through)
and send ``alert`` to your paging or chat system instead of the log.

The monitor only sees what an event holds (outcome, reason, scheme, peer and resolved client,
escaped message id, signed timestamp, key index, duration): never a body, a header value, a
signature or a secret, so it is safe to forward events to any log store. "Peer" here is the
client the allowlist resolved when the verifier has one (behind a proxy, the forwarded
client), else the socket peer.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable

from hookseal import JSONLinesSink, Signer, VerificationError, VerificationEvent, Verifier
from hookseal.schemes import HMACScheme

log = logging.getLogger("audit_alerts")

#: Reasons that mean "someone presented a signature that does not check out".
SIGNATURE_FAILURES = frozenset({"signature_mismatch", "no_supported_signature"})


class RejectionMonitor:
    """An ``on_event`` sink: counts rejections and alerts on bursts of signature failures.

    Args:
        threshold: signature failures from one peer within ``window`` seconds that raise an
            alert.
        window: the sliding window, in seconds.
        alert: called with a one-line message when a burst is detected (default: the log).
        clock: monotonic seconds, injectable for tests.

    One alert is raised per peer and burst: the peer must fall below the threshold again
    before it can trigger another, so a sustained attack does not page once per request.
    """

    def __init__(
        self,
        threshold: int = 20,
        window: float = 60.0,
        *,
        alert: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.window = window
        self.alert = alert or (lambda message: log.warning("%s", message))
        self.clock = clock
        self.rejections: Counter[tuple[str, str]] = Counter()
        self.accepted = 0
        self._recent: defaultdict[str, deque[float]] = defaultdict(deque)
        self._alerting: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, event: VerificationEvent) -> None:
        """Record one event (called by the verifier after every verification)."""
        # Behind a proxy the peer is the proxy: key on the client the allowlist resolved.
        peer = event.client_addr or event.remote_addr or "unknown"
        with self._lock:
            if event.outcome == "accepted":
                self.accepted += 1
                return
            self.rejections[(event.reason or "unknown", peer)] += 1
            if event.reason not in SIGNATURE_FAILURES:
                return
            now = self.clock()
            recent = self._recent[peer]
            recent.append(now)
            while recent and recent[0] <= now - self.window:
                recent.popleft()
            if len(recent) < self.threshold:
                self._alerting.discard(peer)
                return
            if peer in self._alerting:
                return
            self._alerting.add(peer)
            message = (
                f"ALERT: {len(recent)} signature failures from {peer} in the last "
                f"{self.window:g} s (scheme {event.scheme}): a forgery attempt or a "
                "misconfigured secret."
            )
        self.alert(message)

    def report(self) -> list[str]:
        """The rejection counts, one line per (reason, peer), most frequent first."""
        with self._lock:
            return [
                f"{count:5d}  {reason:<24} {peer}"
                for (reason, peer), count in self.rejections.most_common()
            ]


def fan_out(*sinks: Callable[[VerificationEvent], None]) -> Callable[[VerificationEvent], None]:
    """One ``on_event`` callback feeding several sinks (e.g. a monitor and a JSON-lines file)."""

    def emit(event: VerificationEvent) -> None:
        for sink in sinks:
            sink(event)

    return emit


def main() -> int:
    """Simulate traffic through a verifier wired to the monitor; print alerts and counts."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    secret = "example-secret-do-not-use-0123456789"  # a demo value
    scheme = HMACScheme(
        "X-Signature",
        prefix="sha256=",
        timestamp_header="X-Timestamp",
        id_header="X-Id",
        template="{id}.{timestamp}.{body}",
    )
    alerts: list[str] = []
    fake_time = [0.0]
    monitor = RejectionMonitor(
        threshold=5,
        window=60,
        alert=lambda message: (alerts.append(message), print(message)),
        clock=lambda: fake_time[0],
    )
    audit_log = JSONLinesSink(sys.stdout)
    verifier = Verifier(scheme, secret, on_event=fan_out(monitor, audit_log))
    signer = Signer(scheme, secret)
    now = int(time.time())

    print("-- genuine deliveries")
    for number in range(3):
        body = b'{"event":"run.finished","run":%d}' % number
        verifier.verify(body, signer.sign(body, timestamp=now), remote_addr="203.0.113.10", now=now)

    print("-- a burst of forged deliveries from one address, and a stale one")
    forged = dict(signer.sign(b'{"event":"run.finished","run":0}', timestamp=now))
    for number in range(8):
        fake_time[0] += 1
        forged["X-Id"] = f"forged-{number}"
        with contextlib.suppress(VerificationError):
            verifier.verify(b'{"event":"refund","amount":1e9}', forged, remote_addr="198.51.100.7")
    stale = signer.sign(b"{}", timestamp=now - 3600)
    with contextlib.suppress(VerificationError):
        verifier.verify(b"{}", stale, remote_addr="203.0.113.10", now=now)

    print("-- rejections per reason and peer")
    for line in monitor.report():
        print(line)
    print(f"accepted: {monitor.accepted}, alerts raised: {len(alerts)}")
    return 0 if len(alerts) == 1 and monitor.accepted == 3 else 1


if __name__ == "__main__":
    sys.exit(main())
