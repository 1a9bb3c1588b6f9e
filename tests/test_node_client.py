"""A foreign client: Node.js (@grpc/grpc-js + @grpc/proto-loader) against a real server.

The client (tests/node_client/client.js) is built at run time from the project's .proto files
only, with google/rpc/status.proto from the standard google-proto-files npm package (nothing of
this repository's Python environment), so this checks that the published protos are enough for
another language: the service, the protobuf JSON field names, the enums and google.rpc.Status
in a stream item.

Skipped only when `node` is not installed. Its npm dependencies (exact versions, locked by
package-lock.json) are installed here into tests/node_client/node_modules, which git ignores;
`make node-deps` does the same. A failed install fails the test: it is a broken set-up, not an
absent tool.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from regimenguard.regimen.engine import RegimenChecker
from regimenguard.server.app import SERVICE_NAME, RunningServer, ServerOptions, create_server

pytestmark = pytest.mark.e2e

CLIENT_DIR = Path(__file__).parent / "node_client"
MANIFESTS = (CLIENT_DIR / "package.json", CLIENT_DIR / "package-lock.json")
# npm ci writes this "hidden lockfile" last: present and newer than both = installed.
INSTALLED = CLIENT_DIR / "node_modules" / ".package-lock.json"
INSTALL_TIMEOUT = 300
CLIENT_TIMEOUT = 60
INVALID_ARGUMENT = grpc.StatusCode.INVALID_ARGUMENT.value[0]


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH: the Node.js foreign-client test needs Node.js 18+")
    return node


def _ensure_node_deps() -> None:
    """`npm ci` into tests/node_client/node_modules unless it is already up to date."""
    if INSTALLED.exists() and all(
        INSTALLED.stat().st_mtime >= manifest.stat().st_mtime for manifest in MANIFESTS
    ):
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("node is installed but npm is not: cannot install tests/node_client deps")
    try:
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
            cwd=CLIENT_DIR,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`npm ci` in {CLIENT_DIR} took over {INSTALL_TIMEOUT} s (npm registry?)")
    if result.returncode != 0:
        pytest.fail(
            f"`npm ci` in {CLIENT_DIR} failed (exit {result.returncode}); the npm registry must "
            f"be reachable to install @grpc/grpc-js, @grpc/proto-loader and google-proto-files:\n"
            f"{result.stdout}\n{result.stderr}"
        )


@pytest.fixture(scope="module")
def server(checker: RegimenChecker) -> Iterator[RunningServer]:
    running = create_server(checker, ServerOptions(host="127.0.0.1", port=0))
    assert running.port > 0
    running.start()
    try:
        yield running
    finally:
        running.stop(0)


@pytest.fixture(scope="module")
def node_result(server: RunningServer) -> dict:
    node = _node()
    _ensure_node_deps()
    try:
        result = subprocess.run(
            [node, "client.js", f"127.0.0.1:{server.port}"],
            cwd=CLIENT_DIR,
            capture_output=True,
            text=True,
            timeout=CLIENT_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"node client.js did not finish in {CLIENT_TIMEOUT} s")
    assert result.returncode == 0, f"node client.js failed:\n{result.stdout}\n{result.stderr}"
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, f"expected one JSON line, got:\n{result.stdout}"
    return json.loads(lines[0])


def test_client_uses_only_protos_and_google_proto_files(node_result: dict) -> None:
    package = json.loads((CLIENT_DIR / "package.json").read_text(encoding="utf-8"))
    assert node_result["protoIncludes"] == [
        "protos",
        f"google-proto-files {package['dependencies']['google-proto-files']}",
    ]


def test_health_check_both_names(node_result: dict) -> None:
    assert node_result["health"] == {"": "SERVING", SERVICE_NAME: "SERVING"}


def test_check_regimen_contract_example(node_result: dict, checker: RegimenChecker) -> None:
    answer = node_result["checkRegimen"]
    assert answer["requestId"] == "node-1"
    assert answer["verdict"] == "VERDICT_REVIEW"
    assert "SEROTONERGIC_COMBINATION" in answer["ruleIds"]
    assert "SEVERITY_CRITICAL" not in answer["severities"]
    assert answer["serotonergicAgents"] == 2
    assert answer["knowledgeBaseVersion"] == checker.knowledge.version
    assert answer["error"] is None


def test_check_regimens_stream_keeps_order_and_goes_on_after_a_bad_item(
    node_result: dict,
) -> None:
    answers = node_result["checkRegimens"]
    assert [answer["requestId"] for answer in answers] == ["node-s1", "node-s2", "node-s3"]

    first, bad, last = answers
    assert first["error"] is None
    assert first["verdict"] == "VERDICT_ACCEPT"

    assert bad["error"] is not None
    assert bad["error"]["code"] == INVALID_ARGUMENT == 3
    assert "type.googleapis.com/google.rpc.BadRequest" in bad["error"]["details"]
    assert bad["verdict"] == "VERDICT_UNSPECIFIED"

    assert last["error"] is None
    assert last["verdict"] == "VERDICT_REVIEW"
    assert "SEROTONERGIC_COMBINATION" in last["ruleIds"]
