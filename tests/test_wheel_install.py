"""The wheel, built from a copy of the source without `make`, installs and checks a regimen.

This is what a new user or the image does: build the wheel (the build generates the gRPC code:
no generated file is in the copy), install it into a fresh virtual environment with exactly the
locked runtime dependencies (requirements/runtime.txt, --require-hashes, from the configured
package index or pip's cache), and run `regimen-guard check --local` from a directory outside
the repository, so nothing of the source tree can be imported by accident.

About a minute (most of it installing the runtime lock), hence `slow`; it is part of make test,
and done on a thread while the other tests run (tests/wheel_support.py).
"""

from __future__ import annotations

import json
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests import wheel_support
from tests.wheel_support import ok, run

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[1]
# What a build must not print (setuptools' configuration and deprecation warnings).
BUILD_WARNINGS = (
    "BuildBackendWarning",
    "SetuptoolsDeprecationWarning",
    "absent from the `packages`",
)
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


def _declared_top_level() -> set[str]:
    with (ROOT / "pyproject.toml").open("rb") as stream:
        packages = tomllib.load(stream)["tool"]["setuptools"]["packages"]
    return {name.split(".")[0] for name in packages}


@pytest.fixture(scope="module")
def build_output() -> tuple[Path, str]:
    """(the wheel, what the build printed), built from a copy of the source (on a thread since
    the session's collection: tests/wheel_support.py)."""
    return wheel_support.preparation().build()


@pytest.fixture(scope="module")
def venv() -> Path:
    """A fresh virtual environment with the locked runtime and the wheel; returns its bin/."""
    return wheel_support.preparation().venv()


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
    result = run(
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
    result = ok(run([str(venv / "python"), "-I", "-c", probe], cwd=tmp_path), "import probe")
    site = str(venv.parent / "lib")
    assert all(path.startswith(site) for path in json.loads(result.stdout)), result.stdout
    help_text = ok(run([str(venv / "regimen-guard"), "--help"], cwd=tmp_path), "--help")
    assert "serve" in help_text.stdout
