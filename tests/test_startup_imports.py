"""What start-up imports (issue 10: SERVING within 1 s): the command line loads only what its
command needs, and the server builds the sig reader on the first ParseOrder, not at start."""

from __future__ import annotations

import json
import subprocess
import sys

# Modules `serve` never needs: the sig reader (its grammar compiles some 40 patterns), the
# client's gRPC backend and report, protobuf JSON, the HTTP door's framework.
NOT_FOR_SERVE = (
    "regimenguard.regimen.sig",
    "regimenguard.client.orders",
    "regimenguard.client.backend",
    "regimenguard.client.report",
    "regimenguard.server.order_reading",
    "google.protobuf.json_format",
    "starlette",
    "uvicorn",
)


def _modules_after(code: str) -> set[str]:
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_the_command_line_imports_no_command_s_modules() -> None:
    loaded = _modules_after("import regimenguard.client.cli")
    assert not {m for m in loaded if m.startswith(NOT_FOR_SERVE)}
    assert "regimenguard.server.app" not in loaded  # and not the server either, until `serve`


def test_a_serving_process_has_not_imported_the_sig_reader() -> None:
    loaded = _modules_after(
        "from regimenguard.server.main import load_checker\n"
        "from regimenguard.server.app import ServerOptions, create_server\n"
        "running = create_server(load_checker(None), ServerOptions(host='127.0.0.1', port=0))\n"
        "running.start()\n"
        "running.stop(0)"
    )
    assert "regimenguard.server.app" in loaded
    assert not {m for m in loaded if m.startswith(NOT_FOR_SERVE)}
