"""Side-by-side benchmarks: hookseal against the providers' own verifiers, in one process.

Every candidate verifies the same delivery; rounds are interleaved (each round times every
candidate once, in an order that rotates from round to round). In a round, a candidate's
figure is the fastest of many short samples (the ones another process's burst missed); its
reported figure is the median of those over the rounds, as a ratio to the floor measured in
the same run: ``hmac.digest(key, body, "sha256")`` plus ``hmac.compare_digest``. Then what
each prepared fast check saves, the replay stores, the ASGI middleware in process, and the
end-to-end benchmark (bench_e2e.py: uvicorn on 127.0.0.1 driven by wrk). Writes the tables to
docs/performance.md (``--output``).

Run:  python benchmarks/run.py [--rounds 7] [--quick] [--no-e2e] [--output docs/performance.md]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hmac
import os
import platform
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from hookseal import Signer, Verifier
from hookseal.schemes import GitHub, Slack, StandardWebhooks, Stripe
from hookseal.stores.memory import MemoryNonceStore

SECRET_RAW = b"benchmark-secret-32-bytes-long!!"
STANDARD_SECRET = "whsec_" + base64.b64encode(SECRET_RAW).decode()
TEXT_SECRET = "whsec_benchmark_text_secret"
SIZES = {"256 B": 256, "4 KiB": 4096, "64 KiB": 65536, "1 MiB": 1024 * 1024}
COMPONENT_HMAC = "- of which: HMAC from the prepared keyed states alone"
COMPONENT_CHECK = "- of which: the scheme's prepared check, without verify()"


REPLAY_KEYS_ROW = "hookseal StandardWebhooks + its replay keys derived (what a store records)"
ROTATION_ROW = "hookseal StandardWebhooks during a rotation (2 secrets: 2 MACs)"


def make_body(size: int, utf8: bool) -> bytes:
    """A JSON-like body of exactly ``size`` bytes, ASCII or full of 4-byte emoji."""
    head = b'{"type":"invoice.paid","data":"'
    tail = b'"}'
    room = size - len(head) - len(tail)
    if utf8:
        filler = ("\N{GRINNING FACE}" * (room // 4)).encode() + b"x" * (room % 4)
    else:
        filler = (b"abcdefghij" * (room // 10 + 1))[:room]
    body = head + filler + tail
    assert len(body) == size
    return body


def calibrate(func: Callable[[], object], sample: float) -> int:
    """How many calls of ``func`` take about ``sample`` seconds."""
    number = 1
    while True:
        elapsed = timeit.timeit(func, number=number)
        if elapsed >= sample / 4:
            return max(1, int(number * sample / max(elapsed, 1e-9)))
        number *= 4


def per_call(func: Callable[[], object], budget: float, sample: float = 0.002) -> float:
    """Seconds per call of ``func``: the fastest of many short samples within ``budget``.

    Short samples are the ones a context switch or another process's burst misses, so their
    minimum is the most repeatable figure on a shared machine.
    """
    number = calibrate(func, sample)
    repeat = max(3, int(budget / sample))
    return min(timeit.repeat(func, number=number, repeat=repeat)) / number


def interleaved(candidates: dict[str, Callable[[], object]], rounds: int, budget: float) -> dict[
    str, float
]:
    """Seconds per call of each candidate: the median over interleaved rounds.

    Each round times every candidate once (``per_call``: the fastest short sample within
    ``budget``), starting one candidate later than the round before, so no candidate always
    runs first or right after the same neighbour.
    """
    figures: dict[str, list[float]] = {name: [] for name in candidates}
    names = list(candidates)
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            figures[name].append(per_call(candidates[name], budget))
    return {name: statistics.median(values) for name, values in figures.items()}


def median_of_means(
    candidates: dict[str, Callable[[], object]], rounds: int, sample: float
) -> dict[str, float]:
    """Seconds per call: the median over interleaved rounds of each round's mean.

    For network round trips, where a minimum would report the rare sample in which the
    scheduler happened to favour one candidate: a mean over thousands of calls, then the
    median over rounds, compares them like with like.
    """
    means: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, func in candidates.items():
            number = calibrate(func, sample)
            means[name].append(timeit.timeit(func, number=number) / number)
    return {name: statistics.median(values) for name, values in means.items()}


def verify_candidates(body: bytes) -> dict[str, Callable[[], object]]:
    """Every verifier of one Standard-Webhooks-style delivery (all must accept it)."""
    import slack_sdk.signature
    import standardwebhooks
    import stripe
    import svix.webhooks

    now = int(time.time())
    msg_id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
    standard_headers = Signer(StandardWebhooks(), STANDARD_SECRET).sign(
        body, timestamp=now, msg_id=msg_id
    )
    signature = base64.b64decode(standard_headers["webhook-signature"][3:])
    signed = f"{msg_id}.{now}.".encode() + body

    hookseal_standard = Verifier(StandardWebhooks(), [STANDARD_SECRET], nonce_store=None,
                                 max_body_bytes=2 * 1024 * 1024)
    sdk_standard = standardwebhooks.Webhook(STANDARD_SECRET)
    sdk_svix = svix.webhooks.Webhook(STANDARD_SECRET)

    stripe_headers = Signer(Stripe(), TEXT_SECRET).sign(body, timestamp=now)
    stripe_header = stripe_headers["Stripe-Signature"]
    hookseal_stripe = Verifier(Stripe(), [TEXT_SECRET], nonce_store=None,
                               max_body_bytes=2 * 1024 * 1024)
    slack_headers = Signer(Slack(), TEXT_SECRET).sign(body, timestamp=now)
    slack_ts = slack_headers["X-Slack-Request-Timestamp"]
    slack_sig = slack_headers["X-Slack-Signature"]
    hookseal_slack = Verifier(Slack(), [TEXT_SECRET], nonce_store=None,
                              max_body_bytes=2 * 1024 * 1024)
    sdk_slack = slack_sdk.signature.SignatureVerifier(TEXT_SECRET)
    # The replay identity's cost: deriving the keys a store would record, and a rotation, where
    # every configured secret's MAC is computed (one per secret, as a forgery costs).
    rotating_standard = Verifier(
        StandardWebhooks(),
        ["whsec_" + base64.b64encode(b"an-older-secret-listed!!").decode(), STANDARD_SECRET],
        nonce_store=None,
        max_body_bytes=2 * 1024 * 1024,
    )
    github_headers = Signer(GitHub(), TEXT_SECRET).sign(body)
    hookseal_github = Verifier(GitHub(), [TEXT_SECRET], nonce_store=None,
                               max_body_bytes=2 * 1024 * 1024)

    def floor() -> bool:
        return hmac.compare_digest(hmac.digest(SECRET_RAW, signed, "sha256"), signature)

    # Components of the Standard Webhooks row, from the real code through the public scheme
    # contract: the HMAC from the key's prepared states alone, and the scheme's prepared
    # check without the verify() layer.
    prepared_key = StandardWebhooks().load_keys([STANDARD_SECRET])[0]
    prefix = f"{msg_id}.{now}.".encode()
    fast_check = hookseal_standard.scheme.prepare_fast_check(
        (prepared_key,), hookseal_standard.limits
    )
    assert fast_check is not None

    candidates: dict[str, Callable[[], object]] = {
        "floor: hmac.digest + compare_digest": floor,
        "hookseal StandardWebhooks (no nonce store)": lambda: hookseal_standard.verify(
            body, standard_headers
        ),
        REPLAY_KEYS_ROW: lambda: hookseal_standard.verify(body, standard_headers).replay_keys,
        ROTATION_ROW: lambda: rotating_standard.verify(body, standard_headers),
        COMPONENT_HMAC: lambda: prepared_key.digest_parts(prefix, body),
        COMPONENT_CHECK: lambda: fast_check(body, standard_headers, now),
        "hookseal Stripe (no nonce store)": lambda: hookseal_stripe.verify(
            body, stripe_headers
        ),
        "hookseal Slack (no nonce store)": lambda: hookseal_slack.verify(body, slack_headers),
        "hookseal GitHub (no nonce store)": lambda: hookseal_github.verify(body, github_headers),
        "slack_sdk is_valid": lambda: sdk_slack.is_valid(body, slack_ts, slack_sig),
        "stripe verify_header": lambda: stripe.WebhookSignature.verify_header(
            body, stripe_header, TEXT_SECRET, tolerance=300
        ),
        "standardwebhooks verify(json_parse=False)": lambda: sdk_standard.verify(
            body, standard_headers, json_parse=False
        ),
        "svix verify": lambda: sdk_svix.verify(body, standard_headers),
        "standardwebhooks verify (parses JSON)": lambda: sdk_standard.verify(
            body, standard_headers
        ),
        "stripe construct_event": lambda: stripe.Webhook.construct_event(
            body, stripe_header, TEXT_SECRET
        ),
    }
    for name, func in candidates.items():  # every candidate must accept the delivery
        result = func()
        if result is False:
            raise SystemExit(f"benchmark setup error: {name} rejected the delivery")
    return candidates


FAST_CASES = {"genuine 256 B": (256, True), "genuine 4 KiB": (4096, True),
              "forged 4 KiB": (4096, False)}


def fast_check_rows(
    rounds: int, budget: float
) -> list[tuple[str, dict[str, tuple[float, float]]]]:
    """verify() with each scheme's prepared fast check and with it disabled, interleaved.

    Every provider the registry builds without arguments is asked for its fast check
    (``Scheme.prepare_fast_check``); for each that has one, a second scheme object whose
    ``prepare_fast_check`` is replaced by one returning None gives a verifier that always runs
    the general check. Both verify the same deliveries with no nonce store: genuine ones (the
    fast check accepts) and, at 4 KiB, one signed with another secret (the fast check declines
    and the general check refuses it; a no-op event sink keeps rejections out of the log).

    Returns ``(scheme name, {case: (seconds with, seconds without)})`` rows.
    """
    # The registry is private; a benchmark may read it to find every provider (the public
    # names are the same ones, via hookseal.schemes).
    from hookseal import VerificationError
    from hookseal.schemes._registry import PROVIDERS, scheme_by_name

    now = int(time.time())
    url = "https://hooks.example.com/hook"
    rows: list[tuple[str, dict[str, tuple[float, float]]]] = []
    for provider in PROVIDERS:
        if not provider.builds_alone:
            continue
        secret = STANDARD_SECRET if provider.name == "standard-webhooks" else TEXT_SECRET
        other = ("whsec_" + base64.b64encode(b"another-secret-32-bytes-long!!!!").decode()
                 if provider.name == "standard-webhooks" else "whsec_another_text_secret")
        probe = scheme_by_name(provider.name)
        try:
            keys = probe.load_keys([secret])
            limits = Verifier(scheme_by_name(provider.name), [secret], nonce_store=None).limits
            has_fast = probe.prepare_fast_check(keys, limits) is not None
        except Exception:  # keys of another kind (Ed25519, ...): no HMAC fast check to measure
            continue
        if not has_fast:
            continue
        cases: dict[str, tuple[float, float]] = {}
        for case, (size, genuine) in FAST_CASES.items():
            body = make_body(size, utf8=False)
            headers = Signer(scheme_by_name(provider.name), secret if genuine else other).sign(
                body, timestamp=now, msg_id="msg_fast_check", url=url
            )
            off = scheme_by_name(provider.name)
            off.prepare_fast_check = lambda keys, limits: None  # type: ignore[method-assign]
            sink = None if genuine else (lambda event: None)
            with_fast = Verifier(scheme_by_name(provider.name), [secret], nonce_store=None,
                                 on_event=sink)
            without = Verifier(off, [secret], nonce_store=None, on_event=sink)

            def call(verifier: Verifier, body: bytes = body,
                     headers: dict[str, str] = headers) -> object:
                try:
                    return verifier.verify(body, headers, url=url)
                except VerificationError:
                    return None

            for verifier in (with_fast, without):
                if (call(verifier) is None) == genuine:
                    raise SystemExit(f"benchmark setup error: {provider.name} {case}: "
                                     "unexpected verdict")
            best = interleaved({"with": lambda v=with_fast: call(v),
                                "without": lambda v=without: call(v)}, rounds, budget)
            cases[case] = (best["with"], best["without"])
        rows.append((probe.name, cases))
    return rows


def nonce_rows(rounds: int, live: int) -> list[tuple[str, float]]:
    """Extra cost per verify of the default memory store holding ``live`` entries (4 KiB)."""
    body = make_body(4096, utf8=False)
    now = int(time.time())
    signer = Signer(StandardWebhooks(), STANDARD_SECRET)
    # 60,000 deliveries in all (the store grows by 6% of a million), timed in short batches,
    # alternating with and without the store; each figure is the median over batches.
    batch = 60000 // rounds
    deliveries = [
        signer.sign(body, timestamp=now, msg_id=f"msg_bench_{i}") for i in range(batch * rounds)
    ]
    # The row without a store verifies as many distinct deliveries, so both rows pay the same
    # cache misses on headers never seen before and the difference is the store's alone.
    others = [
        signer.sign(body, timestamp=now, msg_id=f"msg_other_{i}") for i in range(batch * rounds)
    ]
    store = MemoryNonceStore(max_entries=live + batch * rounds + 10)
    for i in range(live):
        store.reserve(i.to_bytes(16, "big"), now + 3600, now)
    with_store = Verifier(StandardWebhooks(), [STANDARD_SECRET], nonce_store=store)
    without = Verifier(StandardWebhooks(), [STANDARD_SECRET], nonce_store=None)
    fresh = iter(deliveries)
    fresh_others = iter(others)
    times_with: list[float] = []
    times_without: list[float] = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(batch):
            with_store.verify(body, next(fresh), now=now)
        times_with.append((time.perf_counter() - start) / batch)
        start = time.perf_counter()
        for _ in range(batch):
            without.verify(body, next(fresh_others), now=now)
        times_without.append((time.perf_counter() - start) / batch)
    best_with = statistics.median(times_with)
    best_without = statistics.median(times_without)
    return [
        ("verify, 4 KiB, no nonce store", best_without),
        (f"verify, 4 KiB, MemoryNonceStore holding {live:,} to {len(store):,} live entries",
         best_with),
        ("added cost of the nonce store", best_with - best_without),
    ]


def redis_rows(rounds: int) -> list[tuple[str, float]] | str:
    """hookseal's RedisNonceStore reserve vs a bare redis-py SET NX on the same connection."""
    binary = shutil.which("redis-server")
    if binary is None:
        return "redis-server not found on PATH: Redis rows not measured"
    import redis

    from hookseal.stores.redis import RedisNonceStore

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workdir = tempfile.mkdtemp()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir],
        stdout=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        store = RedisNonceStore(client)
        now = time.time()
        counter = iter(range(10**9))

        def bare() -> object:
            return client.set(f"bare:{next(counter)}", 1, nx=True, px=300_000)

        def ours() -> object:
            return store.reserve(next(counter).to_bytes(16, "big"), now + 300, now)

        best = median_of_means({"bare": bare, "ours": ours}, rounds, 0.2)
        pipe_n = 100

        def pipelined() -> None:
            pipe = client.pipeline(transaction=False)
            for _ in range(pipe_n):
                pipe.set(f"pipe:{next(counter)}", 1, nx=True, px=300_000)
            pipe.execute()

        pipelined_each = min(per_call(pipelined, 0.2) for _ in range(rounds)) / pipe_n
        return [
            ("redis-py SET NX PX, one round trip", best["bare"]),
            ("hookseal RedisNonceStore.reserve", best["ours"]),
            ("redis-py SET NX PX, pipelined x100 (per command)", pipelined_each),
            ("ratio hookseal / bare SET NX", best["ours"] / best["bare"]),
        ]
    finally:
        server.terminate()
        server.wait(5)
        shutil.rmtree(workdir, ignore_errors=True)


def asgi_rows(rounds: int) -> list[tuple[str, float]] | str:
    """Added cost per request of the ASGI middleware over a bare Starlette app, in process.

    Each round sends ``batch`` requests through each app and takes their mean; the figure is
    the median over interleaved rounds. Every request carries a distinct genuine delivery, so
    the variant with the default nonce store records every one (none is refused as a replay).
    """
    try:
        from starlette.applications import Starlette
        from starlette.responses import Response
        from starlette.routing import Route

        from hookseal.contrib import starlette as hookseal_starlette
    except ImportError as exc:
        return f"ASGI rows not measured: {exc}"
    middleware = hookseal_starlette.WebhookMiddleware

    body = make_body(4096, utf8=False)
    now = int(time.time())
    signer = Signer(StandardWebhooks(), STANDARD_SECRET)
    batch = 2000

    async def handler(request: Any) -> Response:
        await request.body()
        return Response(b"ok")

    def app_with(verifier: Verifier | None) -> Any:
        app = Starlette(routes=[Route("/hook", handler, methods=["POST"])])
        if verifier is not None:
            app.add_middleware(middleware, routes={"/hook": verifier})
        return app

    verifier = Verifier(StandardWebhooks(), [STANDARD_SECRET], nonce_store=None)
    # A store of its own, as the default one (a MemoryNonceStore), so no other row fills it.
    store_verifier = Verifier(StandardWebhooks(), [STANDARD_SECRET],
                              nonce_store=MemoryNonceStore())
    core_store = Verifier(StandardWebhooks(), [STANDARD_SECRET], nonce_store=MemoryNonceStore())
    apps = {"bare": app_with(None), "protected": app_with(verifier),
            "stored": app_with(store_verifier)}
    serial = iter(range(10**9))

    def fresh_headers() -> list[dict[str, str]]:
        return [signer.sign(body, timestamp=now, msg_id=f"msg_asgi_{next(serial)}")
                for _ in range(batch)]

    def scope_for(headers: dict[str, str]) -> dict[str, Any]:
        raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()] + [
            (b"content-length", str(len(body)).encode()), (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
        ]
        return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                "method": "POST", "scheme": "http", "path": "/hook", "raw_path": b"/hook",
                "query_string": b"", "root_path": "", "headers": raw_headers,
                "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}

    loop = asyncio.new_event_loop()
    statuses: list[int] = []

    async def call(app: Any, scope: dict[str, Any]) -> None:
        sent = False

        async def receive() -> dict[str, object]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(int(message["status"]))  # type: ignore[call-overload]

        await app(scope, receive, send)

    def timed_app(name: str) -> float:
        scopes = [scope_for(headers) for headers in fresh_headers()]

        async def many() -> None:
            for scope in scopes:
                await call(apps[name], scope)

        start = time.perf_counter()
        loop.run_until_complete(many())
        return (time.perf_counter() - start) / batch

    def timed_core(verify: Verifier) -> float:
        deliveries = fresh_headers()
        start = time.perf_counter()
        for headers in deliveries:
            verify.verify(body, headers)
        return (time.perf_counter() - start) / batch

    timed_app("stored")  # warm-up, and the check that every app accepts
    timed_app("protected")
    timed_app("bare")
    if set(statuses) != {200}:
        return f"ASGI rows not measured: the middleware answered {sorted(set(statuses))}"
    measures: dict[str, Callable[[], float]] = {
        "bare": lambda: timed_app("bare"),
        "protected": lambda: timed_app("protected"),
        "stored": lambda: timed_app("stored"),
        "core": lambda: timed_core(verifier),
        "core_store": lambda: timed_core(core_store),
    }
    figures: dict[str, list[float]] = {name: [] for name in measures}
    names = list(measures)
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            figures[name].append(measures[name]())
    loop.close()
    if set(statuses) != {200}:
        return f"ASGI rows not measured: the middleware answered {sorted(set(statuses))}"
    best = {name: statistics.median(values) for name, values in figures.items()}
    added = best["protected"] - best["bare"]
    return [
        ("bare Starlette app, per request", best["bare"]),
        (f"with {middleware.__name__} (no nonce store), per request", best["protected"]),
        (f"with {middleware.__name__} and a MemoryNonceStore, per request", best["stored"]),
        ("added cost of the middleware, no nonce store", added),
        ("added cost of the middleware, with a MemoryNonceStore", best["stored"] - best["bare"]),
        ("core verify alone, no nonce store", best["core"]),
        ("core verify with a MemoryNonceStore", best["core_store"]),
        ("ratio added cost (no store) / core verify (no store)", added / best["core"]),
    ]


def versions() -> str:
    names = ["hookseal", "standardwebhooks", "svix", "stripe", "slack_sdk", "redis", "starlette"]
    found = []
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append(f"{name} {metadata.version(name)}")
    return ", ".join(found)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} us"
    return f"{seconds * 1e3:.2f} ms"


def write_rows(out: Callable[[str], None], rows: list[tuple[str, float]] | str) -> None:
    if isinstance(rows, str):
        out(rows + "\n")
        return
    out("| measurement | value |")
    out("|---|---|")
    for name, value in rows:
        out(f"| {name} | {value:.2f}x |" if name.startswith("ratio")
            else f"| {name} | {fmt_time(value)} |")
    out("")


STANDARD = "hookseal StandardWebhooks (no nonce store)"
ANCHORS = [
    "slack_sdk is_valid",
    "stripe verify_header",
    "standardwebhooks verify(json_parse=False)",
    "svix verify",
    "standardwebhooks verify (parses JSON)",
    "stripe construct_event",
]
# Like for like: each hookseal scheme against its provider's SDK doing the same work (the
# verification alone: no JSON parsing, no nonce store on either side).
LIKE_FOR_LIKE = [
    (STANDARD, "standardwebhooks verify(json_parse=False)"),
    (STANDARD, "svix verify"),
    ("hookseal Stripe (no nonce store)", "stripe verify_header"),
    ("hookseal Slack (no nonce store)", "slack_sdk is_valid"),
]
E2E_GOAL = 0.92


def goals(
    table: dict[str, dict[str, float]],
    nonce: list[tuple[str, float]],
    live: int,
    redis_result: list[tuple[str, float]] | str,
    asgi_result: list[tuple[str, float]] | str,
    e2e: tuple[dict[str, dict[str, float]], dict[str, dict[str, float]], str] | str,
) -> list[tuple[str, str, str, bool]]:
    """Each goal (issue 18, then the earlier ones still tracked) with its figure and verdict."""
    rows: list[tuple[str, str, str, bool]] = []

    def ratio_goal(name: str, candidate: str, columns: list[str], limit: float) -> None:
        worst = max(table[candidate][c] for c in columns)
        shown = ", ".join(f"{table[candidate][c]:.2f}x" for c in columns)
        rows.append((name, f"<= {limit:.2f}x", shown, worst <= limit))

    ratio_goal("StandardWebhooks verify, 256 B (ASCII, UTF-8)", STANDARD,
               ["256 B ASCII", "256 B UTF-8"], 1.6)
    ratio_goal("StandardWebhooks verify, 4 KiB (ASCII, UTF-8)", STANDARD,
               ["4 KiB ASCII", "4 KiB UTF-8"], 1.3)
    ratio_goal("StandardWebhooks verify, 1 MiB (ASCII, UTF-8)", STANDARD,
               ["1 MiB ASCII", "1 MiB UTF-8"], 1.03)
    columns = list(table[STANDARD])
    for ours, sdk in LIKE_FOR_LIKE:
        if sdk not in table:
            rows.append((f"{ours} faster than {sdk}", "every column", "not measured", False))
            continue
        losses = [c for c in columns if table[ours][c] >= table[sdk][c]]
        closest = min(columns, key=lambda c: table[sdk][c] / table[ours][c])
        shown = (f"slower in: {', '.join(losses)}" if losses else
                 f"every column; closest {closest}: {table[ours][closest]:.2f}x vs "
                 f"{table[sdk][closest]:.2f}x")
        rows.append((f"{ours.removesuffix(' (no nonce store)')} faster than {sdk}",
                     "every column", shown, not losses))
    if isinstance(e2e, str):
        rows.append(("end to end: middleware throughput / bare endpoint", ">= 92%",
                     "not measured", False))
    else:
        for size, share in e2e[1].items():
            value = share["middleware"]
            rates = e2e[0][size]
            cpu = (f" (server CPU per request: bare / middleware = "
                   f"{rates['cpu:bare'] / rates['cpu:middleware']:.1%})"
                   if "cpu:middleware" in rates else "")
            rows.append((f"end to end, {size}: middleware throughput / bare endpoint",
                         f">= {E2E_GOAL:.0%}", f"{value:.1%}{cpu}", value >= E2E_GOAL))
    added = nonce[-1][1]
    rows.append((f"MemoryNonceStore added cost at {live:,} live entries (issue 9)", "<= 2 us",
                 fmt_time(added), added <= 2e-6))
    for label, result, limit in (
        ("RedisNonceStore / bare SET NX (issue 9)", redis_result, 1.2),
        ("ASGI middleware added cost / core verify, in process (issue 9)", asgi_result, 1.5),
    ):
        if isinstance(result, str):
            rows.append((label, f"<= {limit}x", "not measured", False))
        else:
            value = result[-1][1]
            rows.append((label, f"<= {limit}x", f"{value:.2f}x", value <= limit))
    return rows


NOTES = """\
## Reading these figures

- **Method.** Everything except the end-to-end table runs in one process. Rounds are
  interleaved: each round times every candidate once, in an order that rotates from round to
  round. Within a round a candidate's figure is the fastest of many short samples (the ones a
  context switch or another process's burst missed); the reported figure is the median of
  those over the rounds, so one lucky or unlucky round moves nothing. The Redis rows are the
  median over rounds of each round's mean over thousands of round trips. The machine has 2
  CPUs and other work ran beside the benchmark (see the load average above): read the ratios,
  which share the noise of their column, rather than the absolute times; the microsecond rows
  move by a few per cent from run to run.
- **The floor** is OpenSSL's one-shot HMAC: it re-derives the keyed inner and outer states
  from the key on every call. hookseal derives them once per secret and copies them per
  call, which is why the HMAC alone beats the floor on small bodies; from 64 KiB up both are
  bound by SHA-256 itself and the ratio tends to 1.0x.
- **What the rest costs.** Everything else hookseal does per delivery is Python: reading
  three headers, the printable-ASCII, length, duplicate and digit checks of the security
  model, the timestamp window, one base64 encode and a constant-time compare, and building the
  `Verified`. The two "of which" rows split the Standard Webhooks row with the real code: the
  HMAC from the prepared states alone is the least any verifier written in Python can spend;
  the prepared check adds every check, the comparison and the result; `verify()` adds the
  clock, the body limit and the logging decision. None of those checks is skipped to be
  faster.
- **UTF-8 bodies cost the same as ASCII.** The body is never decoded, copied or concatenated:
  prefix and body are fed to the HMAC separately. The SDKs decode and re-encode text, which is
  what their UTF-8 columns show.
- **Like for like.** Each hookseal scheme is compared with its provider's SDK doing the same
  work: the verification alone, no JSON parsing and no replay protection on either side
  (`standardwebhooks verify(json_parse=False)`, `svix verify`, which parses nothing,
  `stripe verify_header`, `slack_sdk is_valid`). The JSON-parsing rows are shown for scale.
- **The replay identity** (what a nonce store records: one 16-byte BLAKE2b per configured
  secret, over that secret's MAC, which the check has already computed) is derived only when a
  store asks for it, so the no-store rows do not pay for it; its own row adds it. It never
  hashes the body again, so its cost vanishes from 64 KiB up. **During a rotation** (two
  secrets) every delivery costs two MACs, one per secret, as a forgery always did: that is what
  makes the identity the same on workers holding `[old]` and `[old, new]`.
- **Fast checks.** GitHub, Stripe, Slack and Standard Webhooks (and any scheme the fast-check
  table lists) prepare a check per verifier (`Scheme.prepare_fast_check`) for the common
  delivery: the same checks in fewer Python operations, one HMAC from prepared state. It only
  accepts or declines: a delivery it declines, every forgery included, is checked again by
  the scheme's general check, which is the only one that refuses. So a fast check saves its
  figure on every genuine delivery and costs about as much again (one more MAC per secret) on
  every forgery of the common shape. `tests/schemes/test_fast_checks.py` requires both paths
  to give the same verdict on random and hostile input, and every `tests/schemes` module of a
  scheme with a fast check runs with it on and off.
- **The nonce store rows** verify distinct deliveries on both sides (never one delivery again
  and again), so the difference is the store's own cost: the replay key, the lock, one hash
  probe into a dict of a million entries (mostly cache misses) and an append to the expiry
  bucket.
- **The in-process ASGI rows** send distinct genuine deliveries through a Starlette app
  (no server, no sockets), with and without the middleware; the ratio divides the
  middleware's added cost (which includes its own verify, with the headers as Starlette hands
  them over) by the core verify: making the core faster makes this ratio harder, not easier.
  The rows with a `MemoryNonceStore` show what replay protection adds per request (the replay
  key, the record and its token), which the end-to-end middleware pays.
- **End to end.** One uvicorn worker per variant serves `POST /hook` on 127.0.0.1; wrk (one
  thread) drives it from the same 2-CPU machine, so server and load generator each have about
  one CPU. Each request is a distinct genuine Standard Webhooks delivery, signed before the
  round and cycled through by a Lua script; the hookseal variants keep replay protection on
  with the default per-process store, so every request is recorded; the SDK variants have no
  replay protection. A round with any answer other than 200 (a replay would be 409) or any
  socket error stops the benchmark. Requests per second are the median over rounds; the share
  of the bare endpoint is the median over rounds of each round's ratio (the bare run of the
  same round, minutes apart at most). The server CPU columns (from `/proc`) are the uvicorn
  process's CPU time per request: a single-worker server that gets a whole CPU serves
  1 / that many requests per second, so "bare / it" is the share of the bare throughput the
  variant keeps, and it depends far less than requests per second on what else the machine
  ran. When the two shares disagree, the machine was busy: trust the CPU column.
"""


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--budget", type=float, default=0.05, help="seconds per timing")
    parser.add_argument("--quick", action="store_true", help="fewer rounds, smaller store")
    parser.add_argument("--live", type=int, default=None,
                        help="live nonce entries (default 1,000,000; 100,000 with --quick)")
    parser.add_argument("--no-e2e", action="store_true",
                        help="skip the end-to-end benchmark (uvicorn + wrk)")
    parser.add_argument("--e2e-rounds", type=int, default=None,
                        help="end-to-end rounds (default 5; 2 with --quick)")
    parser.add_argument("--e2e-duration", type=float, default=None,
                        help="seconds per wrk run (default 5; 2 with --quick)")
    parser.add_argument("--output", default="docs/performance.md")
    args = parser.parse_args()
    rounds = 3 if args.quick else args.rounds
    live = args.live if args.live is not None else 100_000 if args.quick else 1_000_000
    e2e_rounds = args.e2e_rounds or (2 if args.quick else 5)
    e2e_seconds = args.e2e_duration or (2.0 if args.quick else 5.0)
    load_before = load_average()
    started = time.monotonic()

    lines: list[str] = []
    out = lines.append
    out("# Performance\n")
    out("Generated by `nox -s bench` (which runs `python benchmarks/run.py"
        + (" --quick" if args.quick else "")
        + "`; the end-to-end table needs `wrk`, which the session installs with apt-get when "
        "run as root). Figures are medians over interleaved rounds (see *Reading these "
        "figures* at the end); ratios are to the floor "
        "`hmac.digest(key, id.timestamp.body, \"sha256\")` + `hmac.compare_digest` "
        "measured in the same run, so they compare across machines "
        "better than the absolute times.\n")
    out(f"- Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    out(f"- Machine: {cpu_model()}, {os.cpu_count()} CPUs, {platform.system()} "
        f"{platform.release()}")
    out(f"- Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{ssl.OPENSSL_VERSION}")
    out(f"- Packages: {versions()}")
    out(f"- Rounds: {rounds}" + (", --quick" if args.quick else ""))
    load_line = len(lines)
    out("")  # the load line, filled in at the end

    out("## Verify one delivery (ratio to the floor; lower is faster)\n")
    table: dict[str, dict[str, float]] = {}
    columns = []
    for size_name, size in SIZES.items():
        for utf8 in (False, True):
            column = f"{size_name} {'UTF-8' if utf8 else 'ASCII'}"
            columns.append(column)
            print(f"measuring {column} ...", file=sys.stderr)
            body = make_body(size, utf8)
            best = interleaved(verify_candidates(body), rounds, args.budget)
            floor = best["floor: hmac.digest + compare_digest"]
            for name, seconds in best.items():
                table.setdefault(name, {})[column] = seconds / floor
            table.setdefault("floor, absolute", {})[column] = floor
    out("| verifier | " + " | ".join(columns) + " |")
    out("|---|" + "---|" * len(columns))
    for name, row in table.items():
        if name == "floor, absolute":
            cells = [fmt_time(row[c]) for c in columns]
        else:
            cells = [f"{row[c]:.2f}x" for c in columns]
        out(f"| {name} | " + " | ".join(cells) + " |")
    out("")

    print("measuring the fast checks ...", file=sys.stderr)
    out("## What each fast check saves\n")
    out("`verify()` (no nonce store) with the scheme's prepared fast check, and with it "
        "disabled (the scheme's `prepare_fast_check` replaced by one returning None, so every "
        "delivery takes the general check). A forgery is declined by the fast check and then "
        "refused by the general check, so there the fast check adds its own cost.\n")
    fast_columns = list(FAST_CASES)
    out("| scheme | " + " | ".join(
        f"{c}: with | {c}: without | {c}: {'saved' if c.startswith('genuine') else 'added'}"
        for c in fast_columns) + " |")
    out("|---|" + "---|---|---|" * len(fast_columns))
    fast = fast_check_rows(rounds, args.budget)
    for scheme_name, cases in fast:
        cells = []
        for case in fast_columns:
            with_fast, without = cases[case]
            delta = without - with_fast if case.startswith("genuine") else with_fast - without
            cells += [fmt_time(with_fast), fmt_time(without),
                      f"{fmt_time(delta)} ({delta / without:.0%})"]
        out(f"| {scheme_name} | " + " | ".join(cells) + " |")
    out("")

    print("measuring the nonce store ...", file=sys.stderr)
    out(f"## Replay protection: the in-memory store at {live:,} live entries\n")
    out("| measurement | time per verify |")
    out("|---|---|")
    nonce = nonce_rows(4 * rounds, live)
    for name, seconds in nonce:
        out(f"| {name} | {fmt_time(seconds)} |")
    out("")

    print("measuring Redis ...", file=sys.stderr)
    out("## Replay protection: Redis on loopback\n")
    redis_result = redis_rows(rounds)
    write_rows(out, redis_result)

    print("measuring the ASGI middleware ...", file=sys.stderr)
    out("## ASGI middleware (Starlette, in process, 4 KiB body)\n")
    asgi_result = asgi_rows(rounds)
    write_rows(out, asgi_result)

    out("## End to end: uvicorn on 127.0.0.1 driven by wrk (Standard Webhooks)\n")
    e2e: tuple[dict[str, dict[str, float]], dict[str, dict[str, float]], str] | str
    if args.no_e2e:
        e2e = "End-to-end benchmark not run (--no-e2e)."
    else:
        print("measuring end to end (uvicorn + wrk) ...", file=sys.stderr)
        import bench_e2e

        e2e = bench_e2e.measure(e2e_rounds, e2e_seconds, connections=16)
    if isinstance(e2e, str):
        out(e2e + "\n")
    else:
        rates, shares, setup = e2e
        out(f"Setup: {setup}. Requests per second (higher is faster) and the share of the bare "
            "endpoint's throughput; every request a distinct genuine delivery.\n")
        out("\n".join(bench_e2e.table(rates, shares)))
        out("")

    out("## Goals\n")
    out("Computed from the figures above, in this run. Issue 18's targets first, then the "
        "goals of issue 9 that it did not replace.\n")
    out("| goal | target | measured | met |")
    out("|---|---|---|---|")
    for goal, target, measured, met in goals(table, nonce, live, redis_result, asgi_result, e2e):
        out(f"| {goal} | {target} | {measured} | {'yes' if met else '**no**'} |")
    out("")
    out(NOTES)

    minutes = (time.monotonic() - started) / 60
    lines[load_line] = (
        f"- Load: 1/5/15-minute load average {load_before} at the start and "
        f"{load_average()} at the end ({minutes:.0f} minutes); other work shared the machine "
        "when the load average is above 1\n"
    )
    text = "\n".join(lines)
    Path(args.output).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
