"""End to end: one endpoint under uvicorn on 127.0.0.1, driven by wrk on the same machine.

Run:  python benchmarks/bench_e2e.py [--rounds 5] [--duration 5] [--quick]
(``benchmarks/run.py`` runs it too and puts its table in docs/performance.md.)

One uvicorn process (one worker) per variant of ``POST /hook`` (see e2e_app.py): the bare
endpoint, hookseal's Starlette middleware, hookseal's ``verify()`` in the handler, and svix's
and standardwebhooks' ``verify`` in the handler. wrk (one thread, ``--connections``
connections) sends Standard Webhooks deliveries with a 256 B or 4 KiB JSON body; every request
is a distinct genuine delivery (its own ``webhook-id``, so its own signature), signed just
before its run and sent in turn by a Lua script, so hookseal's replay protection (on, with its
default per-process store) records every one. The deliveries are dated close to the start of
the window, so their records expire some seconds after the run: the store holds about one
run's worth (tens of thousands of entries) rather than filling up to its 100,000-entry bound,
past which it refuses deliveries (503) by design. A round runs every variant once, one after
the other, in an order that rotates from round to round; each variant's figure is the median
over rounds of its requests per second, and its ratio is the median over rounds of its rate
divided by the bare endpoint's rate in the same round.

A round that saw any answer other than 200, or any socket error, is an error (a replay would be
answered 409): the benchmark stops instead of reporting it.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECRET = "whsec_" + base64.b64encode(b"benchmark-secret-32-bytes-long!!").decode()
SIZES = {"256 B": 256, "4 KiB": 4096}
LABELS = {
    "bare": "bare endpoint (no verification)",
    "middleware": "hookseal Starlette middleware",
    "handler": "hookseal verify() in the handler",
    "svix": "svix verify in the handler",
    "standardwebhooks": "standardwebhooks verify(json_parse=False) in the handler",
}
TOLERANCE = 300  # the verifiers' default window (seconds either way)
MARGIN = 20  # seconds a delivery stays fresh after its run (signing takes a few seconds)

# wrk's Lua: read the pre-signed deliveries (one "id ts signature" line each) and the body
# once per thread, then send the next delivery on every request. A thread never reuses a line
# within a run; the runner signs more deliveries than a run can send.
LUA = r"""
local deliveries = {}
local index = 0
local head, body

init = function(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do deliveries[#deliveries + 1] = line end
  f:close()
  local b = assert(io.open(args[2], "rb"))
  body = b:read("*a")
  b:close()
  head = "POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" ..
         "Content-Length: " .. #body .. "\r\n"
end

request = function()
  index = index + 1
  if index > #deliveries then index = 1 end
  local id, ts, sig = deliveries[index]:match("^(%S+) (%S+) (%S+)$")
  return head .. "webhook-id: " .. id .. "\r\nwebhook-timestamp: " .. ts ..
         "\r\nwebhook-signature: " .. sig .. "\r\n\r\n" .. body
end

done = function(summary, latency, requests)
  io.write(string.format(
    "WRKJSON {\"requests\": %d, \"duration_us\": %d, \"status\": %d, \"connect\": %d, " ..
    "\"read\": %d, \"write\": %d, \"timeout\": %d}\n",
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout))
end
"""


def make_body(size: int) -> bytes:
    """A JSON body of exactly ``size`` bytes."""
    head = b'{"type":"invoice.paid","data":"'
    tail = b'"}'
    room = size - len(head) - len(tail)
    body = head + (b"abcdefghij" * (room // 10 + 1))[:room] + tail
    assert len(body) == size
    return body


def find_wrk() -> str:
    """The wrk binary, or exit with what to do."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit(
            "wrk is not installed: the end-to-end benchmark needs it. Install it "
            "(Debian/Ubuntu: apt-get install -y wrk; macOS: brew install wrk), or run "
            "benchmarks/run.py with --no-e2e to skip the end-to-end table."
        )
    return wrk


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    """One uvicorn process serving one variant."""

    variant: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Deliveries:
    """Signs distinct Standard Webhooks deliveries (never the same webhook-id twice)."""

    serial: count[int] = field(default_factory=count)

    def write(self, path: Path, body: bytes, number: int, seconds: float) -> None:
        """Sign ``number`` deliveries for a run of ``seconds``, dated to expire soon after it.

        The timestamp is as old as the window allows with a margin: each delivery is still
        fresh when the run sends it, and its replay record (kept until timestamp + 300 s)
        expires some seconds after the run. The default store thus holds about one run's
        records, as an endpoint in a steady state holds the last five minutes' worth, instead
        of filling up (a MemoryNonceStore refuses deliveries once it holds 100,000).
        """
        from hookseal import Signer
        from hookseal.schemes import StandardWebhooks

        signer = Signer(StandardWebhooks(), SECRET)
        now = int(time.time()) - (TOLERANCE - int(seconds) - MARGIN)
        lines = []
        for _ in range(number):
            headers = signer.sign(body, timestamp=now, msg_id=f"msg_e2e_{next(self.serial)}")
            lines.append(
                f"{headers['webhook-id']} {headers['webhook-timestamp']} "
                f"{headers['webhook-signature']}\n"
            )
        path.write_text("".join(lines))


def uvicorn_options() -> list[str]:
    """The fastest HTTP parser and event loop installed (as ``uvicorn[standard]`` deploys)."""
    options = []
    try:
        import httptools  # noqa: F401

        options += ["--http", "httptools"]
    except ImportError:
        options += ["--http", "h11"]
    try:
        import uvloop  # noqa: F401

        options += ["--loop", "uvloop"]
    except ImportError:
        options += ["--loop", "asyncio"]
    return options


def start(variant: str, workdir: Path) -> Server:
    port = free_port()
    log = workdir / f"uvicorn-{variant}.log"
    env = {**os.environ, "HOOKSEAL_BENCH_VARIANT": variant, "HOOKSEAL_BENCH_SECRET": SECRET}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "e2e_app:create_app",
             "--app-dir", str(HERE), "--host", "127.0.0.1", "--port", str(port),
             "--workers", "1", "--no-access-log", "--log-level", "warning",
             *uvicorn_options()],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )
    return Server(variant, port, process, log)


def post(port: int, body: bytes, headers: dict[str, str]) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", "/hook", body=body,
                           headers={**headers, "Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def wait_ready(server: Server, deliveries: Deliveries) -> None:
    """Wait for the server, then check it accepts a genuine delivery and refuses a forgery."""
    from hookseal import Signer
    from hookseal.schemes import StandardWebhooks

    deadline = time.monotonic() + 30
    while True:
        if server.process.poll() is not None:
            raise SystemExit(f"uvicorn ({server.variant}) exited:\n{server.log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"uvicorn ({server.variant}) did not start") from None
            time.sleep(0.05)
    body = make_body(256)
    headers = Signer(StandardWebhooks(), SECRET).sign(
        body, msg_id=f"msg_e2e_check_{next(deliveries.serial)}"
    )
    status = post(server.port, body, headers)
    if status != 200:
        raise SystemExit(f"{server.variant}: a genuine delivery got {status}, not 200")
    forged = Signer(StandardWebhooks(), "whsec_" + base64.b64encode(b"x" * 32).decode()).sign(
        body, msg_id=f"msg_e2e_check_{next(deliveries.serial)}"
    )
    status = post(server.port, body, forged)
    expected = 200 if server.variant == "bare" else 401
    if status != expected:
        raise SystemExit(f"{server.variant}: a forged delivery got {status}, not {expected}")


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) the process has used so far, or None where /proc is absent."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime field 14 and stime field 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(wrk: str, script: Path, port: int, deliveries_file: Path, body_file: Path,
            seconds: float, connections: int) -> dict[str, int]:
    result = subprocess.run(
        [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
         "-s", str(script), f"http://127.0.0.1:{port}/hook",
         "--", str(deliveries_file), str(body_file)],
        capture_output=True, text=True, check=False,
    )
    for line in result.stdout.splitlines():
        if line.startswith("WRKJSON "):
            figures: dict[str, int] = json.loads(line[len("WRKJSON "):])
            return figures
    raise SystemExit(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


def measure(rounds: int, seconds: float, connections: int,
            log: bool = True) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]],
                                       str]:
    """Requests per second (median over rounds) and ratio to bare, per size and variant.

    Returns ``(rates, ratios, setup)``: ``rates[size][variant]`` in requests per second,
    ``ratios[size][variant]`` the median of the per-round ratio to the bare endpoint, and a
    line describing the server and load generator. ``rates[size]["cpu:" + variant]`` is the
    server's CPU time per request in seconds (median over rounds), when /proc shows it.
    """
    wrk = find_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="hookseal-e2e-"))
    script = workdir / "deliveries.lua"
    script.write_text(LUA)
    deliveries = Deliveries()
    variants = list(LABELS)
    servers: dict[str, Server] = {}
    try:
        for variant in variants:
            servers[variant] = start(variant, workdir)
        for server in servers.values():
            wait_ready(server, deliveries)
        rates: dict[str, dict[str, list[float]]] = {s: {v: [] for v in variants} for s in SIZES}
        ratios: dict[str, dict[str, list[float]]] = {s: {v: [] for v in variants} for s in SIZES}
        cpu: dict[str, dict[str, list[float]]] = {s: {v: [] for v in variants} for s in SIZES}
        # Enough distinct deliveries for the fastest variant, measured in a warm-up that also
        # warms every server (imports, first allocations) before the first timed round.
        body_files = {}
        for size_name, size in SIZES.items():
            body_files[size_name] = workdir / f"body-{size}.json"
            body_files[size_name].write_bytes(make_body(size))
        warm = workdir / "warm.txt"
        fastest = 0.0
        for variant in variants:
            body_256 = body_files["256 B"]
            deliveries.write(warm, make_body(256), 40_000, 1)
            figures = run_wrk(wrk, script, servers[variant].port, warm, body_256, 1, connections)
            fastest = max(fastest, figures["requests"] / (figures["duration_us"] / 1e6))
        for round_number in range(rounds):
            order = variants[round_number % len(variants):] + variants[:round_number % len(
                variants)]
            for size_name, size in SIZES.items():
                rate_this_round: dict[str, float] = {}
                for variant in order:
                    listed = workdir / "deliveries.txt"
                    pid = servers[variant].process.pid
                    while True:
                        # Twice what the fastest run so far sent; if a run sends more (the
                        # Lua script would then repeat deliveries), it runs again with more.
                        per_run = int(fastest * seconds * 2) + 2000
                        deliveries.write(listed, make_body(size), per_run, seconds)
                        cpu_before = cpu_seconds(pid)
                        figures = run_wrk(wrk, script, servers[variant].port, listed,
                                          body_files[size_name], seconds, connections)
                        cpu_after = cpu_seconds(pid)
                        rate = figures["requests"] / (figures["duration_us"] / 1e6)
                        fastest = max(fastest, rate)
                        if figures["requests"] <= per_run:
                            break
                        # Repeated deliveries were refused as replays: those records expire
                        # with the run's timestamps; wait for them before the run again.
                        time.sleep(seconds + MARGIN)
                        if log:
                            print(f"  e2e {variant}: more requests than signed deliveries, "
                                  "again with more", file=sys.stderr)
                    if cpu_before is not None and cpu_after is not None:
                        cpu[size_name][variant].append(
                            (cpu_after - cpu_before) / max(1, figures["requests"])
                        )
                    errors = {k: v for k, v in figures.items()
                              if k not in ("requests", "duration_us") and v}
                    if errors:
                        reasons = Counter(
                            line.split(" status=")[0].split("reason=")[-1]
                            for line in servers[variant].log.read_text().splitlines()
                            if "reason=" in line and "msg_e2e_check_" not in line
                        )
                        raise SystemExit(
                            f"{variant} at {size_name}: wrk saw errors {errors} in "
                            f"{figures['requests']} requests (a status error is an answer "
                            "other than 2xx/3xx: a replay would be 409); the server logged "
                            f"{dict(reasons) or 'no rejection'}. Nothing is reported."
                        )
                    rate_this_round[variant] = rate
                    rates[size_name][variant].append(rate)
                    if log:
                        used = cpu[size_name][variant][-1:] or [0.0]
                        print(f"  e2e round {round_number + 1}/{rounds} {size_name} {variant}: "
                              f"{rate:,.0f} req/s, server CPU {used[0] * 1e6:.0f} us/request",
                              file=sys.stderr)
                for variant in variants:
                    ratios[size_name][variant].append(
                        rate_this_round[variant] / rate_this_round["bare"]
                    )
        for server in servers.values():
            if server.process.poll() is not None:
                raise SystemExit(f"uvicorn ({server.variant}) died:\n{server.log.read_text()}")
    finally:
        for server in servers.values():
            server.process.terminate()
        for server in servers.values():
            try:
                server.process.wait(10)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    version = subprocess.run([wrk, "--version"], capture_output=True, text=True,
                             check=False).stdout.splitlines()
    setup = (f"uvicorn {_version('uvicorn')} (1 worker, {' '.join(uvicorn_options())}), "
             f"{version[0].split(' [')[0] if version else 'wrk'} (1 thread, {connections} "
             f"connections, {seconds:g} s per run), {rounds} rounds")
    medians = {s: {v: statistics.median(r) for v, r in rs.items()} for s, rs in rates.items()}
    for size_name, by_variant in cpu.items():
        for variant, used in by_variant.items():
            if used:
                medians[size_name]["cpu:" + variant] = statistics.median(used)
    return (
        medians,
        {s: {v: statistics.median(r) for v, r in rs.items()} for s, rs in ratios.items()},
        setup,
    )


def _version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def table(rates: dict[str, dict[str, float]], ratios: dict[str, dict[str, float]]) -> list[str]:
    """The Markdown table: requests per second, share of the bare endpoint, server CPU.

    The CPU column is the server process's CPU time per request; "bare / it" is the bare
    endpoint's CPU per request divided by this variant's: the share of the bare throughput a
    CPU-bound single-worker server keeps, whatever other processes did to the wall clock.
    """
    sizes = list(rates)
    with_cpu = all("cpu:bare" in rates[s] for s in sizes)
    per_size = ["req/s", "vs bare"] + (["server CPU per request", "CPU: bare / it"]
                                       if with_cpu else [])
    lines = ["| endpoint | " + " | ".join(f"{s} {h}" for s in sizes for h in per_size) + " |",
             "|---|" + "---|" * (len(per_size) * len(sizes))]
    for variant, label in LABELS.items():
        cells = []
        for size in sizes:
            cells += [f"{rates[size][variant]:,.0f}", f"{ratios[size][variant]:.1%}"]
            if with_cpu:
                used = rates[size]["cpu:" + variant]
                cells += [f"{used * 1e6:.0f} us", f"{rates[size]['cpu:bare'] / used:.1%}"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="2 rounds of 2 s")
    args = parser.parse_args()
    rounds, seconds = (2, 2.0) if args.quick else (args.rounds, args.duration)
    rates, ratios, setup = measure(rounds, seconds, args.connections)
    print(setup)
    print("\n".join(table(rates, ratios)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
