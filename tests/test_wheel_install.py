"""The wheel, built from a copy of the source without `make`, installs and checks a regimen.

This is what a new user or the image does: build the wheel (the build generates the gRPC code:
no generated file is in the copy), install it into a fresh virtual environment with exactly the
locked runtime dependencies (requirements/runtime.txt, --require-hashes, from the configured
package index or pip's cache), and run `regimen-guard check --local` from a directory outside
the repository, so nothing of the source tree can be imported by accident.

About a minute (most of it installing the runtime lock), hence `slow`; it is part of make test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_LOCK = ROOT / "requirements" / "runtime.txt"
# What a build must not print (setuptools' configuration and deprecation warnings).
BUILD_WARNINGS = (
    "BuildBackendWarning",
    "SetuptoolsDeprecationWarning",
    "absent from the `packages`",
)
IGNORED_IN_COPY = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "build", "dist", "*.egg-info", "__pycache__", "*.pyc",
    ".pytest_cache", ".ruff_cache", ".hypothesis", "*_pb2.py", "*_pb2.pyi", "*_pb2_grpc.py",
    "tests", "bench",
)  # fmt: skip
INSTALL_TIMEOUT = 900
REGIMEN = {
    "requestId": "wheel-1",
    "asOf": "2026-11-23",
    "medications": [
        {"drug": "duloxetine", "doseMg": 60, "dosesPerDay": 1, "startedOn": "2026-09-01"},
        {
            "drug": "cyclobenzaprine",
            "doseMg": 5,
            "dosesPerDay": 3,
            "asNeeded": True,
            "action": "ORDER_ACTION_START",
        },
    ],
}


def _run(command: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH"}}
    return subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def _ok(result: subprocess.CompletedProcess, what: str) -> subprocess.CompletedProcess:
    assert result.returncode == 0, (
        f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    return result


def _declared_top_level() -> set[str]:
    with (ROOT / "pyproject.toml").open("rb") as stream:
        packages = tomllib.load(stream)["tool"]["setuptools"]["packages"]
    return {name.split(".")[0] for name in packages}


@pytest.fixture(scope="module")
def build_output(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(the wheel, what the build printed), built from a copy of the source."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=IGNORED_IN_COPY, symlinks=False)
    assert not list(source.rglob("*_pb2.py")), "the copy must not hold generated code"
    dist = work / "dist"
    result = _ok(
        _run(
            [sys.executable, "-m", "pip", "wheel", "--verbose", "--no-deps",
             "--no-build-isolation", "--wheel-dir", str(dist), str(source)],
            cwd=work,
        ),
        "pip wheel",
    )  # fmt: skip
    (wheel,) = dist.glob("regimen_guard-*.whl")
    return wheel, result.stdout + result.stderr


@pytest.fixture(scope="module")
def venv(build_output: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the locked runtime and the wheel; returns its bin/."""
    wheel, _ = build_output
    where = tmp_path_factory.mktemp("venv")
    base_python = getattr(sys, "_base_executable", sys.executable)
    _ok(_run([base_python, "-m", "venv", str(where / "env")], cwd=where), "python -m venv")
    bin_dir = where / "env" / "bin"
    pip = [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--no-compile"]
    _ok(
        _run(
            [*pip, "--require-hashes", "-r", str(RUNTIME_LOCK)], cwd=where, timeout=INSTALL_TIMEOUT
        ),
        "installing requirements/runtime.txt",
    )
    _ok(_run([*pip, "--no-deps", str(wheel)], cwd=where), "installing the wheel")
    return bin_dir


def test_the_build_prints_no_setuptools_warnings(build_output: tuple[Path, str]) -> None:
    _, output = build_output
    found = [warning for warning in BUILD_WARNINGS if warning in output]
    assert not found, f"the build warned ({found}):\n{output[-4000:]}"


def test_the_wheel_ships_the_generated_code_the_proto_and_the_data(
    build_output: tuple[Path, str],
) -> None:
    wheel, _ = build_output
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    for generated in (
        "regimen_checker_pb2.py",
        "regimen_checker_pb2.pyi",
        "regimen_checker_pb2_grpc.py",
        "regimen_checker.proto",
    ):
        assert any(name.endswith(f"regimenguard/v1/{generated}") for name in names), generated
    assert any(name.endswith("interactions/data/ingredients.csv") for name in names)
    assert any(name.endswith("dosing/data/dose_limits.csv") for name in names)
    top_level = {
        name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")
    }
    assert top_level == _declared_top_level()


def test_regimen_guard_checks_a_regimen_from_the_installed_wheel(
    venv: Path, tmp_path: Path
) -> None:
    regimen = tmp_path / "rx.json"
    regimen.write_text(json.dumps(REGIMEN), encoding="utf-8")
    result = _run(
        [str(venv / "regimen-guard"), "check", str(regimen), "--local", "--json"], cwd=tmp_path
    )
    assert result.returncode == 1, result.stderr  # REVIEW
    answer = json.loads(result.stdout)
    assert answer["requestId"] == "wheel-1"
    assert answer["verdict"] == "VERDICT_REVIEW"
    assert "SEROTONERGIC_COMBINATION" in [finding["ruleId"] for finding in answer["findings"]]
    assert answer["knowledgeBaseVersion"]


def test_the_installed_modules_come_from_the_environment(venv: Path, tmp_path: Path) -> None:
    probe = (
        "import json, regimenguard.v1.regimen_checker_pb2 as api, regimenguard.server.app as app;"
        "print(json.dumps([api.__file__, app.__file__]))"
    )
    result = _ok(_run([str(venv / "python"), "-I", "-c", probe], cwd=tmp_path), "import probe")
    site = str(venv.parent / "lib")
    assert all(path.startswith(site) for path in json.loads(result.stdout)), result.stdout
    help_text = _ok(_run([str(venv / "regimen-guard"), "--help"], cwd=tmp_path), "--help")
    assert "serve" in help_text.stdout
