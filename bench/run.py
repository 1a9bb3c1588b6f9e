"""RegimenGuard benchmark suite: `make bench` (= `.venv/bin/python -m bench.run`).

Sections (see bench/README.md): in-process latency by regimen size, cold start, unary gRPC
against the project server and an empty-work server, the round-robin demo, and the bulk review
(CheckRegimenBatch and the CheckRegimens stream) against `regimen-guard serve --workers 2`.
Prints a table with PASS/MISS per target and writes every figure to bench/results/latest.json
and a timestamped copy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
CHANNELS_32 = 8  # channels (TCP connections) for the 32-in-flight unary runs


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument(
        "--quick", action="store_true", help="small counts, well under 30 s (smoke test)"
    )
    p.add_argument(
        "--bulk-count",
        type=int,
        default=1_000_000,
        help="regimens for CheckRegimenBatch (default 1,000,000; stopped by the budget)",
    )
    p.add_argument(
        "--bulk-budget",
        type=float,
        default=None,
        help="seconds allowed for the batch bulk run (default: what the time budget "
        "leaves, at most 150)",
    )
    p.add_argument(
        "--stream-count",
        type=int,
        default=100_000,
        help="regimens for the CheckRegimens stream comparison (default 100,000)",
    )
    p.add_argument(
        "--stream-budget",
        type=float,
        default=25.0,
        help="seconds allowed for the stream run (default 25)",
    )
    p.add_argument(
        "--time-budget",
        type=float,
        default=265.0,
        help="seconds the whole run aims to finish in (default 265)",
    )
    p.add_argument("--bulk-clients", type=int, default=2, help="client processes for bulk (2)")
    p.add_argument(
        "--bulk-channels",
        type=int,
        default=4,
        help="channels (TCP connections) per bulk client process (4)",
    )
    p.add_argument(
        "--only",
        default="",
        help="comma-separated sections: inprocess,coldstart,unary,roundrobin,bulk,memory,review",
    )
    p.add_argument(
        "--review-patients",
        type=int,
        default=100_000,
        help="generated patients for the population review section (default 100,000)",
    )
    p.add_argument(
        "--review-spark-patients",
        type=int,
        default=20_000,
        help="patients for its Spark local[2] run (default 20,000, so make bench stays short; "
        "give --review-patients' number for the same population)",
    )
    p.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    return p


def _meta(args: argparse.Namespace) -> dict:
    import grpc
    from google.protobuf import __version__ as protobuf_version
    from google.protobuf.internal import api_implementation

    def git(*cmd: str) -> str:
        try:
            return subprocess.run(
                ["git", *cmd], cwd=ROOT, capture_output=True, text=True, timeout=10
            ).stdout.rstrip("\n")
        except (OSError, subprocess.SubprocessError):
            return ""

    return {
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "git_commit": git("rev-parse", "--short", "HEAD"),
        "git_dirty": [
            line[3:]
            for line in git("status", "--porcelain").splitlines()
            if not line[3:].startswith("bench/")
        ],
        "python": platform.python_version(),
        "grpcio": grpc.__version__,
        "protobuf": f"{protobuf_version} ({api_implementation.Type()})",
        "cpus": os.cpu_count(),
        "loadavg_start": os.getloadavg(),
        "quick": args.quick,
        "note": "shared 2-core machine, other jobs may be running: absolute numbers are noisy; "
        "compare ratios and CPU-per-call figures measured in the same run",
    }


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    began = time.perf_counter()
    only = {s.strip() for s in args.only.split(",") if s.strip()}

    def wanted(section: str) -> bool:
        return not only or section in only

    def left() -> float:
        return args.time_budget - (time.perf_counter() - began)

    results: dict = {"meta": _meta(args)}
    quick = args.quick

    def section(key: str, title: str, fn) -> None:
        """Run one section; a failure is recorded (and printed) without losing the others."""
        _say(title)
        started = time.perf_counter()
        try:
            results[key] = fn()
        except Exception as error:
            import traceback

            results[key] = {
                "error": f"{type(error).__name__}: {error}",
                "traceback": traceback.format_exc(),
            }
            print(f"[bench] {key} FAILED: {results[key]['error']}", file=sys.stderr, flush=True)
        results["meta"].setdefault("section_seconds", {})[key] = time.perf_counter() - started

    if wanted("inprocess"):
        from bench import inprocess

        section(
            "inprocess",
            "in-process latency (RegimenChecker.check and the full proto path)",
            lambda: inprocess.run(quick=quick),
        )
    if wanted("coldstart"):
        from bench import coldstart

        section(
            "cold_start", "cold start to SERVING", lambda: coldstart.run(repeats=1 if quick else 5)
        )
    if wanted("unary"):
        section(
            "unary",
            "unary CheckRegimen over gRPC: project vs empty-work server",
            lambda: _unary(quick),
        )
    if wanted("roundrobin"):
        from bench import roundrobin

        section(
            "round_robin",
            "round-robin scale-out demo",
            lambda: roundrobin.run(calls=40 if quick else 200),
        )
    if wanted("bulk"):
        section(
            "bulk", "bulk review against regimen-guard serve --workers 2", lambda: _bulk(args, left)
        )
    if wanted("review"):
        from bench import review

        section(
            "review",
            "population review: local engine, CheckRegimenBatch, Spark local[2]",
            lambda: review.run(
                quick=quick,
                patients=args.review_patients,
                spark_patients=args.review_spark_patients,
            ),
        )

    if wanted("memory"):
        from bench import memory_peak

        section(
            "memory_peak",
            "peak RSS of one worker under the largest allowed messages",
            lambda: memory_peak.run(clients=2 if quick else memory_peak.CLIENTS),
        )

    results["meta"]["loadavg_end"] = os.getloadavg()
    results["meta"]["seconds"] = time.perf_counter() - began
    results["targets"] = targets(results)
    print(render(results))
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        text = json.dumps(results, indent=2, default=str)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        suffix = "-quick" if quick else ""
        (RESULTS / f"{stamp}{suffix}.json").write_text(text)
        (RESULTS / ("latest-quick.json" if quick else "latest.json")).write_text(text)
        print(
            f"\nwritten: {RESULTS / ('latest-quick.json' if quick else 'latest.json')} "
            f"(and {stamp}{suffix}.json)"
        )
    return 0


def _say(text: str) -> None:
    print(f"[bench] {text} ...", file=sys.stderr, flush=True)


def _unary(quick: bool) -> dict:
    from bench.proc import free_port
    from bench.regimens import unary_pool
    from bench.servers import ServerProcess, stop_all
    from bench.unary import run_load

    payloads = [message.SerializeToString() for message in unary_pool(64)]
    rounds = 1 if quick else 2
    calls_1 = 150 if quick else 1500
    calls_32 = {"project": 400 if quick else 4000, "empty": 800 if quick else 6000}
    warm = 50 if quick else 300
    out: dict = {
        "request": "5-order regimen for an older adult (bench.regimens.unary_pool)",
        "request_bytes": len(payloads[0]),
        "rounds": [],
    }
    project = ServerProcess.project(free_port(), workers=1)
    empty = ServerProcess.empty(free_port())
    try:
        project.wait_serving()
        empty.wait_serving()
        for _ in range(rounds):  # alternate project / empty so drifting load hits both
            row = {}
            for name, server in (("project", project), ("empty", empty)):
                row[f"{name}_1"] = run_load(
                    server, payloads, calls=calls_1, in_flight=1, channels=1, warmup=warm
                )
                row[f"{name}_32"] = run_load(
                    server,
                    payloads,
                    calls=calls_32[name],
                    in_flight=32,
                    channels=CHANNELS_32,
                    warmup=warm,
                )
            row["ratio_32"] = row["project_32"]["calls_per_s"] / row["empty_32"]["calls_per_s"]
            row["cpu_ratio_32"] = (
                row["empty_32"]["server_cpu_us_per_call"]
                / row["project_32"]["server_cpu_us_per_call"]
            )
            out["rounds"].append(row)
        out["project_rss_mb"] = project.memory()["vmhwm_sum_mb"]
    finally:
        stop_all(project, empty)
    w2 = ServerProcess.project(free_port(), workers=2)
    try:
        w2.wait_serving()
        out["project_w2_32"] = run_load(
            w2, payloads, calls=calls_32["project"], in_flight=32, channels=CHANNELS_32, warmup=warm
        )
    finally:
        w2.stop()

    def best(key: str) -> dict:
        return max((row[key] for row in out["rounds"]), key=lambda r: r["calls_per_s"])

    for key in ("project_1", "project_32", "empty_1", "empty_32"):
        out[key] = best(key)
    out["ratio_32"] = out["project_32"]["calls_per_s"] / out["empty_32"]["calls_per_s"]
    out["ratio_32_by_round"] = [row["ratio_32"] for row in out["rounds"]]
    out["server_cpu_ratio_32"] = (
        out["empty_32"]["server_cpu_us_per_call"] / out["project_32"]["server_cpu_us_per_call"]
    )
    out["w2_over_w1_32"] = out["project_w2_32"]["calls_per_s"] / out["project_32"]["calls_per_s"]
    return out


def _bulk(args: argparse.Namespace, left) -> dict:
    from bench import bulkgen
    from bench.bulk import run_bulk
    from bench.proc import free_port
    from bench.servers import ServerProcess

    quick = args.quick
    out: dict = {
        "generator_self_test": bulkgen.self_test(
            samples=200 if quick else 2000, distinct=20_000 if quick else 100_000
        )
    }
    stream_budget = 4.0 if quick else args.stream_budget
    unique_budget = 4.0 if quick else 20.0
    ceiling_budget = 4.0 if quick else 10.0
    if args.bulk_budget is not None:
        batch_budget = args.bulk_budget
    elif quick:
        batch_budget = 8.0
    else:  # what is left of the run's time budget after stream, ceiling and shutdowns
        batch_budget = max(
            20.0, min(150.0, left() - stream_budget - unique_budget - ceiling_budget - 25)
        )
    batch_count = 10_007 if quick else args.bulk_count
    stream_count = 1000 if quick else args.stream_count
    common = {"clients": args.bulk_clients, "channels_per_client": args.bulk_channels}
    server = ServerProcess.project(free_port(), workers=2)
    try:
        server.wait_serving()
        out["server_pids"] = server.pids()
        out["worker_pids"] = server.worker_pids()
        out["batch"] = run_bulk(
            server, mode="batch", count=batch_count, chunk=1000, budget_s=batch_budget, **common
        )
        out["memory_after_batch"] = server.memory()
        out["stream"] = run_bulk(
            server, mode="stream", count=stream_count, chunk=1000, budget_s=stream_budget, **common
        )
        # the same batches where every order is new content: no order record is ever reused
        out["batch_unique"] = run_bulk(
            server,
            mode="batch",
            count=batch_count,
            chunk=1000,
            budget_s=unique_budget,
            unique_orders=True,
            **common,
        )
        out["memory"] = server.memory()
    finally:
        server.stop()
    workers = set(out["worker_pids"])
    memory = out["memory"]
    worker_peaks = [kb / 1024 for pid, kb in memory["vmhwm_kb"].items() if pid in workers]
    out["peak_rss_workers_mb"] = sum(worker_peaks)
    # the target is per worker: the largest one worker reached (its VmHWM counts the
    # pages it shares with the supervisor it was forked from, so the sum counts those twice)
    out["peak_rss_per_worker_mb"] = max(worker_peaks) if worker_peaks else None
    out["peak_rss_all_mb"] = memory["vmhwm_sum_mb"]
    out["pss_all_mb"] = memory["pss_sum_mb"]
    empty = ServerProcess.empty(free_port())
    try:  # the transport + client ceiling for the same bulk traffic (one empty-work process)
        empty.wait_serving()
        out["batch_empty_ceiling"] = run_bulk(
            empty,
            mode="batch",
            count=10_000 if quick else 300_000,
            chunk=1000,
            budget_s=ceiling_budget,
            validating=False,
            **common,
        )
        out["empty_server_rss_mb"] = empty.memory()["vmhwm_sum_mb"]
    finally:
        empty.stop()
    return out


# ----------------------------------------------------------------------------- targets, table


def _target(name: str, value, limit, *, higher_is_better: bool, unit: str, note: str = "") -> dict:
    if value is None:
        return {"target": name, "status": "n/a", "value": None, "limit": limit, "unit": unit}
    ok = value >= limit if higher_is_better else value <= limit
    if higher_is_better:
        gap = f"{limit / value:.1f}x short" if value > 0 else "no value"
    else:
        gap = f"{value / limit:.1f}x over"
    return {
        "target": name,
        "status": "PASS" if ok else "MISS",
        "value": value,
        "limit": limit,
        "unit": unit,
        "higher_is_better": higher_is_better,
        "gap": "" if ok else gap,
        "note": note,
    }


def _ok(results: dict, key: str) -> dict | None:
    section = results.get(key)
    return None if not section or "error" in section else section


def targets(results: dict) -> list[dict]:
    rows = []
    for key in ("inprocess", "unary", "bulk", "cold_start", "round_robin", "memory_peak", "review"):
        if key in results and "error" in results[key]:
            rows.append(
                {
                    "target": f"section {key}",
                    "status": "FAIL",
                    "value": None,
                    "limit": None,
                    "unit": "",
                    "note": results[key]["error"],
                }
            )
    unary = _ok(results, "unary")
    if unary:
        rows.append(
            _target(
                "unary throughput ratio project/empty, 32 in flight",
                unary["ratio_32"],
                0.85,
                higher_is_better=True,
                unit="ratio",
            )
        )
    inproc = _ok(results, "inprocess")
    if inproc and "bytes" in inproc:
        for population, label in (("realistic", "orders repeat"), ("unique", "every order unique")):
            for size, limit in (("5", 30), ("50", 300)):
                rows.append(
                    _target(
                        f"in-process bytes to bytes p50, {size} medications, {label}",
                        inproc["bytes"][population][size]["p50_us"],
                        limit,
                        higher_is_better=False,
                        unit="us",
                    )
                )
            rows.append(
                _target(
                    f"linear in medications: p50 50 / p50 5, {label}",
                    inproc["bytes"][f"{population}_50_over_5"],
                    10,
                    higher_is_better=False,
                    unit="x",
                    note="at most 10x for 10x the orders",
                )
            )
    bulk = _ok(results, "bulk")
    if bulk and bulk.get("batch_unique"):
        unique = bulk["batch_unique"]
        rows.append(
            _target(
                "CheckRegimenBatch, every order unique",
                unique["regimens_per_s"],
                10_000,
                higher_is_better=True,
                unit="regimens/s",
                note=f"{unique['answers']:,} regimens in {unique['wall_s']:.0f} s",
            )
        )
    if bulk:
        batch = bulk["batch"]
        done = batch["completed_target"] and batch["target_count"] >= 1_000_000
        seconds = (
            batch["wall_s"]
            if done
            else (1_000_000 / batch["regimens_per_s"] if batch["regimens_per_s"] else None)
        )
        rows.append(
            _target(
                "1,000,000 regimens via CheckRegimenBatch",
                seconds,
                30,
                higher_is_better=False,
                unit="s",
                note=""
                if done
                else (
                    f"projected from {batch['answers']:,} regimens at "
                    f"{batch['regimens_per_s']:,.0f}/s; "
                    + (
                        "time budget reached"
                        if not batch["completed_target"]
                        else f"--bulk-count {batch['target_count']:,}"
                    )
                ),
            )
        )
        rows.append(
            _target(
                "peak RSS per worker during bulk (the largest VmHWM)",
                bulk.get("peak_rss_per_worker_mb"),
                150,
                higher_is_better=False,
                unit="MB",
            )
        )
    memory = _ok(results, "memory_peak")
    if memory and memory["pod_limit_mib"]:
        rows.append(
            _target(
                f"peak RSS, one worker, {memory['clients_at_once']} largest messages at once",
                memory["peak_rss_mb"],
                memory["pod_limit_mib"] * 1.048576,
                higher_is_better=False,
                unit="MB",
                note="the pod's memory limit in deploy/deployment.yaml",
            )
        )
    cold = _ok(results, "cold_start")
    if cold:
        rows.append(
            _target(
                "cold start to SERVING (median)",
                cold["median_s"],
                1.0,
                higher_is_better=False,
                unit="s",
            )
        )
        if cold.get("knowledge_load_median_ms") is not None:
            rows.append(
                _target(
                    "knowledge-base load at start-up (median)",
                    cold["knowledge_load_median_ms"],
                    100.0,
                    higher_is_better=False,
                    unit="ms",
                    note="server-reported: data read, graph built and validated, compiled",
                )
            )
    return rows


def _f(value, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def render(results: dict) -> str:
    lines: list[str] = []
    meta = results["meta"]
    lines.append("")
    lines.append(
        f"RegimenGuard benchmark  {meta['started']}  commit {meta['git_commit']}"
        f"{' (+local changes)' if meta['git_dirty'] else ''}  {meta['cpus']} CPUs  "
        f"load {meta['loadavg_start'][0]:.1f} -> {meta['loadavg_end'][0]:.1f}  "
        f"{meta['seconds']:.0f} s{'  QUICK' if meta['quick'] else ''}"
    )
    lines.append("NOTE: shared machine, other jobs running: absolute numbers are noisy.")
    inproc = _ok(results, "inprocess")
    if inproc:
        lines.append("")
        lines.append(
            "1. In-process latency (us)            meds   p50      p99    p50/med   iters  findings"
        )
        for population, label in (
            ("realistic", "bytes->bytes, orders repeat"),
            ("unique", "bytes->bytes, every order unique"),
        ):
            for size, row in inproc.get("bytes", {}).get(population, {}).items():
                lines.append(
                    f"   {label:<34} {size:>4} {_f(row['p50_us'], 1):>8} {_f(row['p99_us'], 1):>8}"
                    f" {_f(row['p50_us_per_medication'], 1):>9} {row['iterations']:>7}"
                    f"  (CPU p50 {_f(row['cpu_p50_us'], 1)})"
                )
        for key, label in (
            ("check", "RegimenChecker.check"),
            ("proto_path", "proto->check->proto"),
            ("check_known_only", "check, known drugs only"),
        ):
            for size, row in inproc[key].items():
                lines.append(
                    f"   {label:<34} {size:>4} {_f(row['p50_us'], 1):>8} {_f(row['p99_us'], 1):>8}"
                    f" {_f(row['p50_us_per_medication'], 1):>9} {row['iterations']:>7}"
                    f"  {row.get('findings', '')}"
                )
        lines.append(
            f"   marginal cost per extra medication (5->50, p50): check "
            f"{_f(inproc['check_marginal_us_per_medication_5_to_50'], 1)} us, proto path "
            f"{_f(inproc['proto_path_marginal_us_per_medication_5_to_50'], 1)} us"
        )
    unary = _ok(results, "unary")
    if unary:
        lines.append("")
        lines.append(
            "2. Unary CheckRegimen over gRPC       calls/s   p50 ms   p99 ms  "
            "server us/call  client us/call"
        )
        for key, label in (
            ("project_1", "project, 1 in flight"),
            ("project_32", "project, 32 in flight"),
            ("project_w2_32", "project --workers 2, 32 in flight"),
            ("empty_1", "empty-work, 1 in flight"),
            ("empty_32", "empty-work, 32 in flight"),
        ):
            row = unary[key]
            lines.append(
                f"   {label:<34} {_f(row['calls_per_s']):>8} {_f(row['p50_us'] / 1000, 2):>8}"
                f" {_f(row['p99_us'] / 1000, 2):>8} {_f(row['server_cpu_us_per_call']):>15}"
                f" {_f(row['client_cpu_us_per_call']):>15}"
            )
        lines.append(
            f"   ratio project/empty @32: {unary['ratio_32']:.3f} (by round: "
            f"{', '.join(f'{r:.3f}' for r in unary['ratio_32_by_round'])}); server "
            f"CPU/call ratio empty/project: {unary['server_cpu_ratio_32']:.3f}; "
            f"workers 2 vs 1: {unary['w2_over_w1_32']:.2f}x (connections spread "
            f"over the 2 workers: {unary['project_w2_32']['connections_spread']}, "
            f"attempt {unary['project_w2_32']['connection_attempts']}; CPU by pid "
            f"{unary['project_w2_32']['server_cpu_by_pid_s']})"
        )
    cold = _ok(results, "cold_start")
    rr = _ok(results, "round_robin")
    if cold or rr:
        lines.append("")
    if cold:
        runs = ", ".join(f"{r['spawn_to_serving_s'] * 1000:.0f}" for r in cold["runs"])
        lines.append(
            f"4. Cold start to SERVING: median {cold['median_s'] * 1000:.0f} ms over "
            f"{len(cold['runs'])} (runs: {runs} ms; server-reported knowledge-base load "
            f"{_f(cold.get('knowledge_load_median_ms'))} ms (median), load+bind "
            f"{cold['runs'][0]['server_reported_ready_ms']} ms (first run), the rest is Python "
            "start-up and imports)"
        )
    if rr:
        counts = ", ".join(
            f":{s['port']} {s['check_regimen_calls']} calls "
            f"({s['cpu_s_during_round_robin']:.2f} s CPU)"
            for s in rr["servers"]
        )
        pick_first = [s["pick_first_list_rules_calls"] for s in rr["servers"]]
        lines.append(
            f"5. Round robin over 2 servers, {rr['calls']} calls: {counts}; both took "
            f"traffic: {rr['both_took_traffic']}; pick_first contrast: {pick_first}"
        )
    bulk = _ok(results, "bulk")
    if bulk:
        lines.append("")
        lines.append(
            "3. Bulk review (serve --workers 2)    regimens   answered  wall s  regimens/s"
            "  server us/reg  client us/reg  all ok"
        )
        for key, label in (
            ("batch", "CheckRegimenBatch x1000"),
            ("stream", "CheckRegimens stream"),
            ("batch_unique", "batch, every order unique"),
            ("batch_empty_ceiling", "empty-work batch (ceiling, 1 proc)"),
        ):
            row = bulk.get(key)
            if row is None:
                continue
            lines.append(
                f"   {label:<34} {row['target_count']:>9,} {row['answers']:>10,}"
                f" {_f(row['wall_s'], 1):>7} {_f(row['regimens_per_s']):>11}"
                f" {_f(row['server_cpu_us_per_regimen']):>14}"
                f" {_f(row['client_cpu_us_per_regimen']):>14}  {row['all_answered']}"
            )
        batch = bulk["batch"]
        lines.append(
            f"   batch: {batch['invalid_sent']} deliberately invalid answered with error: "
            f"{batch['invalid_answered_with_error']}; unexpected errors "
            f"{batch['unexpected_errors']}; time budget {batch['budget_s']:.0f} s"
            f"{'' if batch['completed_target'] else ' (reached: count is what fit)'}; "
            f"server CPU by pid {batch['server_cpu_by_pid_s']}"
        )
        lines.append(
            f"   peak RSS (VmHWM): largest worker {_f(bulk.get('peak_rss_per_worker_mb'))} MB, "
            f"workers {bulk['peak_rss_workers_mb']:.0f} MB, all "
            f"server processes {bulk['peak_rss_all_mb']:.0f} MB (PSS now "
            f"{bulk['pss_all_mb']:.0f} MB); empty-work server "
            f"{bulk['empty_server_rss_mb']:.0f} MB"
        )
    memory = _ok(results, "memory_peak")
    if memory:
        lines.append("")
        lines.append(
            f"6. Memory, one worker, {memory['clients_at_once']} CheckRegimenBatch of "
            f"{memory['message_bytes'] / 2**20:.1f} MiB at once (the largest allowed): peak RSS "
            f"{memory['peak_rss_mb']:.0f} MB (idle {memory['idle_rss_mb']:.0f} MB, "
            f"{memory['rss_after_mb']:.0f} MB 2 s after), pod limit "
            f"{memory['pod_limit_mib']} MiB; calls {memory['codes']}"
        )
        lines.append(f"PEAK RSS under the largest messages: {memory['peak_rss_mb']:.0f} MB")
    review_section = _ok(results, "review")
    if review_section:
        from bench import review

        lines.append("")
        lines.extend(review.render(review_section))
    rows = results.get("targets", [])
    if rows:
        lines.append("")
        lines.append("Targets")
        for row in rows:
            if row["status"] == "FAIL":
                lines.append(f"   FAIL  {row['target']}: {row['note']}")
                continue
            value = row["value"]
            shown = (
                "-"
                if value is None
                else (f"{value:.3f}" if row["unit"] == "ratio" else f"{value:,.1f} {row['unit']}")
            )
            op = ">=" if row.get("higher_is_better", row["unit"] == "ratio") else "<="
            limit = f"{row['limit']} {row['unit'] if row['unit'] != 'ratio' else ''}".strip()
            extra = f"  [{row['gap']}]" if row.get("gap") else ""
            note = f"  ({row['note']})" if row.get("note") else ""
            lines.append(
                f"   {row['status']:<4}  {row['target']:<58} {shown:>12}  {op} {limit}{extra}{note}"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
