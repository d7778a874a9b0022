"""Nonce-store benchmark (a script, not a test): python benchmarks/bench_nonce.py

Measures:
  * MemoryNonceStore: per-check cost with 1M live entries (new ids and replays) and the
    memory each entry takes (tracemalloc: key bytes, dict slot, expiry float, bucket slot);
  * RedisNonceStore on loopback: one check per round trip, the same SET NX on a pipeline
    (many checks per round trip), and a bare redis-py ``SET NX PX`` on the same connection
    for comparison (the ratio is hookseal's overhead on top of the round trip).

Starts its own redis-server on 127.0.0.1 (``--save '' --appendonly no``) unless --redis-port
is given. Figures go into docs/replay.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc

from hookseal.stores.memory import MemoryNonceStore

NOW = 1_700_000_000.0


def _key(i: int) -> bytes:
    return i.to_bytes(16, "big")


def _fill(store: MemoryNonceStore, count: int) -> None:
    for i in range(count):
        store.reserve(_key(i), NOW + 300 + (i % 600), NOW)


def bench_memory(entries: int, checks: int) -> None:
    print(f"MemoryNonceStore, {entries:,} live entries")
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    store = MemoryNonceStore(max_entries=entries + checks + 1)
    _fill(store, entries)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(f"  memory per entry (tracemalloc):      {(after - before) / entries:8.0f} bytes")
    del store
    gc.collect()

    store = MemoryNonceStore(max_entries=entries + checks + 1)
    _fill(store, entries)
    new = [_key(entries + i) for i in range(checks)]
    old = [_key(i) for i in range(checks)]
    for label, keys in (("new id (recorded)", new), ("replay (refused)", old)):
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            for key in keys:
                store.reserve(key, NOW + 300, NOW + 1)
            runs.append((time.perf_counter() - started) / len(keys))
        print(f"  per check, {label:<24} {min(runs) * 1e9:8.0f} ns")
    small = MemoryNonceStore(max_entries=10_000)
    _fill(small, 1_000)
    keys = [_key(10_000 + i) for i in range(5_000)]
    started = time.perf_counter()
    for key in keys:
        small.reserve(key, NOW + 300, NOW + 1)
    print(
        f"  per check, new id at 1k entries (ref) "
        f"{(time.perf_counter() - started) / len(keys) * 1e9:6.0f} ns"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_redis() -> tuple[subprocess.Popen[bytes], int]:
    import redis

    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = _free_port()
    workdir = tempfile.mkdtemp()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(500):
        try:
            with redis.Redis(port=port) as probe:
                probe.ping()
            return proc, port
        except redis.ConnectionError:
            time.sleep(0.01)
    raise RuntimeError("redis-server did not start")


def _per_op(fn: object, count: int, repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn(count)  # type: ignore[operator]
        runs.append((time.perf_counter() - started) / count)
    return min(runs)


def bench_redis(port: int, checks: int, batch: int) -> None:
    import redis

    from hookseal.stores.redis import AsyncRedisNonceStore, RedisNonceStore

    client = redis.Redis(host="127.0.0.1", port=port, single_connection_client=True)
    store = RedisNonceStore(client, prefix="bench:store:")
    counter = iter(range(10**12))

    def store_checks(n: int) -> None:
        for _ in range(n):
            store.reserve(_key(next(counter)), NOW + 300, NOW)

    def store_replays(n: int) -> None:
        key = _key(0)
        for _ in range(n):
            store.reserve(key, NOW + 300, NOW)

    def bare_set_nx(n: int) -> None:
        for _ in range(n):
            client.set("bench:bare:" + _key(next(counter)).hex(), "1", nx=True, px=300_000)

    def pipelined_store_command(n: int) -> None:
        for start in range(0, n, batch):
            pipe = client.pipeline(transaction=False)
            for _ in range(min(batch, n - start)):
                name = "bench:pipe:" + _key(next(counter)).hex()
                pipe.set(name, "tok", nx=True, px=300_000, get=True)
            pipe.execute()

    def bare_ping(n: int) -> None:
        for _ in range(n):
            client.ping()

    client.flushdb()
    # Interleaved rounds, best of each: the comparison stays fair on a noisy machine.
    rounds: dict[str, list[float]] = {}
    for _ in range(7):
        for name, fn in (
            ("ping", bare_ping),
            ("bare", bare_set_nx),
            ("single", store_checks),
            ("replay", store_replays),
        ):
            rounds.setdefault(name, []).append(_per_op(fn, checks // 4, repeat=1))
    ping, bare, single, replay = (min(rounds[n]) for n in ("ping", "bare", "single", "replay"))
    piped = _per_op(pipelined_store_command, checks * 5)
    print(f"Redis {client.info('server')['redis_version']} on loopback, one connection")
    print(f"  PING round trip (redis-py)              {ping * 1e6:7.1f} us")
    print(f"  bare redis-py SET NX PX                 {bare * 1e6:7.1f} us")
    print(f"  RedisNonceStore.reserve, new id         {single * 1e6:7.1f} us"
          f"   ratio to bare SET NX: {single / bare:.2f}")  # fmt: skip
    print(f"  RedisNonceStore.reserve, replay         {replay * 1e6:7.1f} us")
    print(f"  store's SET NX PX GET pipelined x{batch:<5}  {piped * 1e6:7.1f} us per check")

    async def async_checks(total: int, concurrency: int) -> float:
        aclient = redis.asyncio.Redis(host="127.0.0.1", port=port)
        astore = AsyncRedisNonceStore(aclient, prefix="bench:async:")
        base = next(counter) + 10**9

        async def worker(offset: int) -> None:
            for i in range(offset, total, concurrency):
                await astore.areserve(_key(base + i), NOW + 300, NOW)

        started = time.perf_counter()
        await asyncio.gather(*(worker(o) for o in range(concurrency)))
        elapsed = time.perf_counter() - started
        await aclient.aclose()
        return elapsed / total

    one = asyncio.run(async_checks(checks, 1))
    many = asyncio.run(async_checks(checks * 2, 32))
    print(f"  AsyncRedisNonceStore.areserve, 1 task   {one * 1e6:7.1f} us")
    print(f"  AsyncRedisNonceStore.areserve, 32 tasks {many * 1e6:7.1f} us per check (throughput)")
    print(f"  Redis used_memory per key (approx.)     {_redis_bytes_per_key(client):7.0f} bytes")
    client.flushdb()
    client.close()


def _redis_bytes_per_key(client: object) -> float:
    from hookseal.stores.redis import RedisNonceStore

    c = client
    c.flushdb()  # type: ignore[attr-defined]
    base = c.info("memory")["used_memory"]  # type: ignore[attr-defined]
    store = RedisNonceStore(c, prefix="hookseal:")  # type: ignore[arg-type]
    count = 100_000
    pipe = c.pipeline(transaction=False)  # type: ignore[attr-defined]
    for i in range(count):
        pipe.set(store.key_name(_key(i)), "0" * 32, nx=True, px=300_000)
    pipe.execute()
    return float((c.info("memory")["used_memory"] - base) / count)  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=200_000)
    parser.add_argument("--redis-checks", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--redis-port", type=int, default=None)
    parser.add_argument("--no-redis", action="store_true")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]} on {platform.platform()} ({platform.machine()})")
    bench_memory(args.entries, args.checks)
    if args.no_redis:
        return
    proc = None
    port = args.redis_port
    if port is None:
        proc, port = _start_redis()
    try:
        bench_redis(port, args.redis_checks, args.batch)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(5)


if __name__ == "__main__":
    main()
