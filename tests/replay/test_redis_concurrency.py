"""Exactly one acceptance when many threads, processes or tasks submit one delivery."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading

import pytest
import redis
import redis.asyncio
from redis_support import RedisProcess, process_worker
from replay_support import quiet_verifier, signed

from hookseal import ReplayedDelivery
from hookseal.stores.redis import AsyncRedisNonceStore, RedisNonceStore

pytestmark = [pytest.mark.extras, pytest.mark.redis]

NOW = 1_700_000_000
COPIES_PER_THREAD = 100


def test_32_threads_one_store_accept_exactly_once(redis_server: RedisProcess, prefix: str) -> None:
    client = redis.Redis(host="127.0.0.1", port=redis_server.port, socket_timeout=5)
    verifier = quiet_verifier(RedisNonceStore(client, prefix=prefix))
    body, headers = signed(NOW, "msg_threads")
    accepted: list[int] = []
    replayed: list[int] = []
    other: list[BaseException] = []
    barrier = threading.Barrier(32)

    def submit() -> None:
        barrier.wait()
        # Every thread starts at the barrier, so the race is in the first attempts: 100 copies
        # each (3,200 in all) contend as hard as 1,000 would, in a tenth of the time.
        for _ in range(COPIES_PER_THREAD):
            try:
                verifier.verify(body, headers, now=NOW)
                accepted.append(1)
            except ReplayedDelivery:
                replayed.append(1)
            except BaseException as exc:  # pragma: no cover - reported below
                other.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(32)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        client.close()
    assert other == []
    assert len(accepted) == 1
    assert len(replayed) == 32 * COPIES_PER_THREAD - 1


def test_4_processes_share_one_redis_store_accept_exactly_once(
    redis_server: RedisProcess, prefix: str
) -> None:
    ctx = multiprocessing.get_context("spawn")
    body, headers = signed(NOW, "msg_processes")
    barrier = ctx.Barrier(4)
    results = ctx.Queue()
    workers = [
        ctx.Process(
            target=process_worker,
            args=(redis_server.port, prefix, body, headers, NOW, 1000, barrier, results),
        )
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(10)
        assert worker.exitcode == 0
    results.close()
    results.join_thread()
    assert len({pid for pid, *_ in outcomes}) == 4
    assert sum(accepted for _, accepted, _, _ in outcomes) == 1
    assert sum(replayed for _, _, replayed, _ in outcomes) == 4 * 1000 - 1
    assert sum(other for *_, other in outcomes) == 0


@pytest.mark.asyncio
async def test_concurrent_tasks_async_store_accept_exactly_once(
    redis_server: RedisProcess, prefix: str
) -> None:
    client = redis.asyncio.Redis(host="127.0.0.1", port=redis_server.port, socket_timeout=5)
    verifier = quiet_verifier(AsyncRedisNonceStore(client, prefix=prefix))
    body, headers = signed(NOW, "msg_tasks")

    async def submit() -> int:
        accepted = 0
        for _ in range(50):
            try:
                await verifier.averify(body, headers, now=NOW)
                accepted += 1
            except ReplayedDelivery:
                pass
        return accepted

    try:
        counts = await asyncio.gather(*(submit() for _ in range(32)))
    finally:
        await client.aclose()
    assert sum(counts) == 1
