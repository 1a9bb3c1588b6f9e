"""Round-robin scale-out demo: two server processes, one client channel listing both addresses.

Two copies of the project server (regimenguard.server.app.create_server plus a counting interceptor, see
bench.counting_server) on two ports; a channel to ``ipv4:127.0.0.1:P1,127.0.0.1:P2`` with
``grpc.lb_policy_name=round_robin`` sends N CheckRegimen calls. Each server reports exactly how
many calls it took (and its CPU time is measured from /proc as a second witness). For contrast,
the same two addresses with the default policy (pick_first) send N ListRules calls, which all go
to one server.
"""

from __future__ import annotations

import grpc

from bench.proc import free_port
from bench.regimens import unary_pool
from bench.servers import ServerProcess, cpu_delta, stop_all
from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc


def run(*, calls: int) -> dict:
    servers = [ServerProcess.counting(free_port()), ServerProcess.counting(free_port())]
    try:
        for server in servers:
            server.wait_serving()
        target = "ipv4:" + ",".join(f"127.0.0.1:{server.port}" for server in servers)
        requests = unary_pool(16)
        before = [server.cpu() for server in servers]
        with grpc.insecure_channel(target, options=[("grpc.lb_policy_name", "round_robin")]) as ch:
            stub = pb_grpc.RegimenCheckerServiceStub(ch)
            for n in range(calls):
                stub.CheckRegimen(requests[n % len(requests)], timeout=30, wait_for_ready=True)
        cpu = [sum(cpu_delta(b, s.cpu()).values()) for b, s in zip(before, servers, strict=True)]
        with grpc.insecure_channel(target) as ch:  # default policy: pick_first
            stub = pb_grpc.RegimenCheckerServiceStub(ch)
            for _ in range(calls):
                stub.ListRules(pb.ListRulesRequest(), timeout=30, wait_for_ready=True)
    finally:
        stop_all(*servers)
        reports = [server.report or {} for server in servers]
    per_server = [
        {
            "port": server.port,
            "check_regimen_calls": report.get("calls", {}).get("CheckRegimen", 0),
            "pick_first_list_rules_calls": report.get("calls", {}).get("ListRules", 0),
            "cpu_s_during_round_robin": round(seconds, 3),
        }
        for server, report, seconds in zip(servers, reports, cpu, strict=True)
    ]
    counts = [row["check_regimen_calls"] for row in per_server]
    return {
        "target": target,
        "lb_policy": "round_robin",
        "calls": calls,
        "servers": per_server,
        "all_counted": sum(counts) == calls,
        "both_took_traffic": all(count > 0 for count in counts)
        and all(row["cpu_s_during_round_robin"] > 0 for row in per_server),
        "share_min_max": [min(counts) / calls, max(counts) / calls] if calls else None,
    }
