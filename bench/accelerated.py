"""The mypyc build (``make accelerate``) against the pure-Python core, side by side.

Each round runs two fresh interpreters, one per build, timing bytes to bytes as
``bench/inprocess.py``'s ``bytes_to_bytes`` does (the realistic pool of 256 regimens, 5 and 50
medications); the builds alternate so drift on the machine hits both. The pure run imports every
``regimenguard.regimen`` module from its .py even where a compiled one sits beside it.

    .venv/bin/python -m bench.accelerated [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

_CHILD = r"""
import importlib.abc, importlib.util, json, os, sys, time

class PreferSource(importlib.abc.MetaPathFinder):
    # regimenguard.regimen.* from the .py files, never a compiled extension beside them
    def find_spec(self, fullname, path, target=None):
        if not fullname.startswith("regimenguard.regimen.") or not path:
            return None
        leaf = fullname.rpartition(".")[2]
        for folder in path:
            source = os.path.join(folder, leaf + ".py")
            if os.path.exists(source):
                return importlib.util.spec_from_file_location(fullname, source)
        return None

if sys.argv[1] == "pure":
    sys.meta_path.insert(0, PreferSource())

from bench.inprocess import bytes_to_bytes
from bench.regimens import unary_pool
from regimenguard.regimen.rules import base
from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.knowledge import load_knowledge
from regimenguard.regimen.service import RegimenService

checker = RegimenChecker(load_knowledge())
answer = bytes_to_bytes(RegimenService(checker.knowledge, checker=checker))
out = {"engine": base.__file__}
for size in (5, 50):
    payloads = [m.SerializeToString() for m in unary_pool(256, size)]
    for payload in payloads * 2:
        answer(payload)
    samples = []
    for _ in range(7):
        started = time.perf_counter()
        for payload in payloads * 4:
            answer(payload)
        samples.append((time.perf_counter() - started) / (4 * len(payloads)) * 1e6)
    samples.sort()
    out[str(size)] = samples[len(samples) // 2]
print(json.dumps(out))
"""


def _run(build: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, build], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    seen: dict[str, dict[str, list[float]]] = {"pure": {}, "accelerated": {}}
    for n in range(rounds):
        for build in ("pure", "accelerated") if n % 2 == 0 else ("accelerated", "pure"):
            row = _run(build)
            compiled = row.pop("engine").endswith(".so")
            if compiled != (build == "accelerated"):
                sys.exit(f"{build}: engine compiled={compiled} (run `make accelerate` first)")
            for size, us in row.items():
                seen[build].setdefault(size, []).append(us)
            print(
                f"round {n + 1} {build:11} "
                + "  ".join(f"{s} meds {us:7.1f} µs" for s, us in row.items())
            )
    for size in ("5", "50"):
        pure = statistics.median(seen["pure"][size])
        fast = statistics.median(seen["accelerated"][size])
        print(
            f"{size:>2} medications: pure {pure:7.1f} µs, accelerated {fast:7.1f} µs, x{pure / fast:.2f}"
        )


if __name__ == "__main__":
    main()
