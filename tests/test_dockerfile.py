"""The Dockerfile builds the image deploy/ runs, and the two agree: ports, user, stop signal.

`docker build` itself cannot run on the project's machines (no container daemon); this reads
the Dockerfile as the builder would (instructions, stages, build arguments) and checks it
against the manifests, the lock, the Makefile and the server's own command-line parser.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from regimenguard.client.cli import build_parser
from regimenguard.server.app import DEFAULT_PORT

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
DEPLOYMENT = ROOT / "deploy" / "deployment.yaml"
# A base pinned to a patch release of Python on a named Debian release, e.g. 3.11.14-slim-bookworm.
PINNED_SLIM = re.compile(r"^python:(\d+)\.(\d+)\.(\d+)-slim-[a-z]+$")
COMPILERS = ("gcc", "g++", "clang", "build-essential", "make", "cc", "libc6-dev")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [argument for word, argument in self.instructions if word == keyword]

    def one(self, keyword: str) -> str:
        (argument,) = self.all(keyword)
        return argument


def _instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    parsed = []
    for line in logical:
        keyword, _, argument = line.partition(" ")
        parsed.append((keyword.upper(), argument.strip()))
    return parsed


def _stages(text: str) -> list[Stage]:
    build_args: dict[str, str] = {}
    stages: list[Stage] = []
    for keyword, argument in _instructions(text):
        if keyword == "ARG" and not stages:
            name, _, default = argument.partition("=")
            build_args[name] = default
        elif keyword == "FROM":
            words = argument.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: build_args[m[1]], words[0])
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base, name))
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1].instructions.append((keyword, argument))
    return stages


def _exec_form(argument: str) -> list[str]:
    assert argument.startswith("["), f"use the exec form (a JSON list), not {argument!r}"
    return yaml.safe_load(argument)


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return _stages(DOCKERFILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def final(stages: list[Stage]) -> Stage:
    return stages[-1]


@pytest.fixture(scope="module")
def deployment() -> dict[str, Any]:
    return yaml.safe_load(DEPLOYMENT.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def _pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as stream:
        return tomllib.load(stream)


def test_multi_stage_on_a_pinned_slim_python(stages: list[Stage]) -> None:
    assert len(stages) >= 2
    requires = _pyproject()["project"]["requires-python"]  # ">=3.11"
    floor = tuple(int(part) for part in requires.removeprefix(">=").split("."))
    for stage in stages:
        match = PINNED_SLIM.match(stage.base)
        assert match, f"{stage.base} is not a slim Python pinned to a patch release"
        assert (int(match[1]), int(match[2])) == floor, f"{stage.base} vs requires-python"
    assert len({stage.base for stage in stages}) == 1, (
        "the environment is built on the base it runs on"
    )


def test_dependencies_come_from_the_lock_with_hashes(stages: list[Stage]) -> None:
    build = stages[0]
    commands = " ".join(build.all("RUN"))
    for lock in ("requirements/runtime.txt", "requirements/build.txt"):
        assert f"--require-hashes -r {lock}" in commands
        assert (ROOT / lock).is_file()
    # The wheel is built from the source with the locked build tools, not a fresh download.
    assert "--no-build-isolation" in commands
    assert "--no-deps" in commands


def test_the_final_stage_has_no_compilers_and_installs_nothing(
    stages: list[Stage], final: Stage
) -> None:
    runs = " ".join(final.all("RUN"))
    assert not re.search(r"\b(pip|apt-get|apt|apk)\b.*\binstall\b", runs), runs
    for compiler in COMPILERS:
        assert not re.search(rf"(^|\s){re.escape(compiler)}(\s|$)", runs), compiler
    copies = final.all("COPY")
    assert copies == [f"--from={stages[0].name} /opt/regimenguard /opt/regimenguard"], copies


def test_runs_as_the_non_root_user_the_deployment_expects(
    final: Stage, deployment: dict[str, Any], container: dict[str, Any]
) -> None:
    uid, gid = (int(part) for part in final.one("USER").split(":"))
    assert uid != 0 and gid != 0
    pod = deployment["spec"]["template"]["spec"]["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert (pod["runAsUser"], pod["runAsGroup"]) == (uid, gid)
    created = " ".join(final.all("RUN"))
    assert f"--uid {uid}" in created and f"--gid {gid}" in created
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_stop_signal_is_the_one_the_server_drains_on(
    final: Stage, container: dict[str, Any]
) -> None:
    assert final.one("STOPSIGNAL") == "SIGTERM"
    # Nothing in the pod sends another signal first.
    assert "lifecycle" not in container


def test_exposed_ports_are_the_deployments(final: Stage, container: dict[str, Any]) -> None:
    exposed = {
        int(port.split("/")[0]) for argument in final.all("EXPOSE") for port in argument.split()
    }
    declared = {port["containerPort"] for port in container["ports"]}
    assert exposed == declared
    named = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert named["grpc"] == DEFAULT_PORT
    assert {"grpc", "http", "metrics"} <= named.keys()


def test_the_default_command_serves_on_the_exposed_ports(
    final: Stage, container: dict[str, Any]
) -> None:
    entrypoint = _exec_form(final.one("ENTRYPOINT"))
    command = _exec_form(final.one("CMD"))
    assert entrypoint == ["regimen-guard"] == container["command"]
    args = build_parser().parse_args(command)
    assert args.command == "serve"
    named = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert args.port == named["grpc"]
    assert args.metrics_port == named["metrics"]
    # Once `serve` has an HTTP door flag, the image must open it on the exposed HTTP port.
    if hasattr(args, "http_port"):
        assert args.http_port == named["http"]
    # In a container the server must listen beyond loopback.
    assert args.host in {"[::]", "0.0.0.0"}


def test_the_deployment_runs_the_image_make_builds(container: dict[str, Any]) -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    (name,) = re.findall(r"^IMAGE_NAME\s*:?=\s*(\S+)", makefile, re.MULTILINE)
    assert re.search(r"docker build .*-t \$\(IMAGE\)", makefile)
    version = _pyproject()["project"]["version"]
    assert container["image"] == f"{name}:{version}"


def test_the_dockerignore_keeps_environments_and_generated_code_out() -> None:
    ignored = set(shlex.split((ROOT / ".dockerignore").read_text(encoding="utf-8"), comments=True))
    assert {".git", ".venv", "**/node_modules", "protos/**/*_pb2.py"} <= ignored
