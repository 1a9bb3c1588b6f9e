"""Memory fits the pod: large requests reserve their size from a per-process budget before
they are worked on, so only so many are decoded and checked at once; small ones never wait."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

from regimenguard.server.app import MAX_MESSAGE_BYTES, ServerOptions
from regimenguard.server.memory import LARGE_MESSAGE_BYTES, MessageBudget

MIB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[1]


async def _work(budget: MessageBudget, size: int, running: list[int], peak: list[int]) -> None:
    async with budget.reserve(size):
        running.append(size)
        peak.append(sum(running))
        await asyncio.sleep(0.01)
        running.remove(size)


def test_large_messages_beyond_the_budget_wait_their_turn() -> None:
    budget = MessageBudget(32 * MIB)
    running: list[int] = []
    peak: list[int] = []

    async def burst() -> None:
        await asyncio.gather(*(_work(budget, 16 * MIB, running, peak) for _ in range(8)))

    asyncio.run(burst())
    assert len(peak) == 8  # every one was worked on ...
    assert max(peak) <= 32 * MIB  # ... never more than two 16 MiB messages at once
    assert budget.peak == 32 * MIB and budget.in_use == 0


def test_small_messages_do_not_count_and_a_giant_one_runs_alone() -> None:
    budget = MessageBudget(4 * MIB)
    running: list[int] = []
    peak: list[int] = []

    async def mixed() -> None:
        small = [_work(budget, LARGE_MESSAGE_BYTES - 1, running, peak) for _ in range(20)]
        await asyncio.gather(_work(budget, 64 * MIB, running, peak), *small)

    asyncio.run(mixed())
    assert len(peak) == 21
    assert budget.peak == 4 * MIB  # the giant one took the whole budget; small ones none


def test_defaults_fit_the_pod_memory_limit() -> None:
    options = ServerOptions()
    assert options.large_message_budget_bytes == 32 * MIB
    assert options.max_message_bytes == MAX_MESSAGE_BYTES == 16 * MIB
    deployment = (ROOT / "deploy" / "deployment.yaml").read_text(encoding="utf-8")
    limit = int(re.search(r"limits:\s*\n\s*memory:\s*(\d+)Mi", deployment).group(1))  # type: ignore[union-attr]
    # bench/memory_peak.py measured the peak under 8 of the largest messages at once (README):
    # the budget must stay well within the limit it was measured against.
    assert options.large_message_budget_bytes * 4 < limit * MIB


def test_a_server_process_keeps_two_malloc_arenas_unless_the_operator_says_otherwise() -> None:
    """glibc's mallopt(M_ARENA_MAX) takes the limit (returns 1); MALLOC_ARENA_MAX wins."""
    code = "from regimenguard.server.memory import limit_malloc_arenas as f; print(f())"
    run = [sys.executable, "-c", code]
    default = subprocess.run(run, capture_output=True, text=True, check=True, timeout=60)
    env = {"MALLOC_ARENA_MAX": "4", "PATH": "/usr/bin:/bin"}
    chosen = subprocess.run(run, capture_output=True, text=True, check=True, timeout=60, env=env)
    assert default.stdout.strip() == ("True" if sys.platform.startswith("linux") else "False")
    assert chosen.stdout.strip() == "False"
