"""The lock files (requirements/*.txt, pip-tools with hashes) cover pyproject.toml.

`make install` installs requirements/dev.txt with --require-hashes and the image installs
requirements/runtime.txt: a dependency that pyproject.toml declares but the lock lacks would
fail there (or, worse, not be installed). `make lock` refreshes both.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_LOCK = ROOT / "requirements" / "runtime.txt"
DEV_LOCK = ROOT / "requirements" / "dev.txt"
# What the image's build stage builds the wheel with (build-system.requires, locked).
BUILD_LOCK = ROOT / "requirements" / "build.txt"
PROJECT = "regimen-guard"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
_HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class Pin:
    version: Version
    hashes: int


def _pyproject() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as stream:
        return tomllib.load(stream)


def read_lock(path: Path) -> dict[str, Pin]:
    """name -> pinned version and its number of hashes, from a pip-compile output file."""
    pins: dict[str, Pin] = {}
    name: str | None = None
    version: Version | None = None
    hashes = 0
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        match = _PIN.match(line)
        if match or not line.startswith(" "):
            if name is not None and version is not None:
                pins[name] = Pin(version, hashes)
            name = version = None
            hashes = 0
        if match:
            name, version = canonicalize_name(match[1]), Version(match[2])
        hashes += len(_HASH.findall(line))
    return pins


def _requirements(group: str) -> list[Requirement]:
    project = _pyproject()["project"]
    declared = (
        project["dependencies"] if group == "runtime" else project["optional-dependencies"][group]
    )
    return [Requirement(text) for text in declared]


def _groups() -> list[str]:
    return ["runtime", *_pyproject()["project"]["optional-dependencies"]]


@pytest.fixture(scope="module")
def runtime() -> dict[str, Pin]:
    return read_lock(RUNTIME_LOCK)


@pytest.fixture(scope="module")
def dev() -> dict[str, Pin]:
    return read_lock(DEV_LOCK)


def _assert_covers(lock: dict[str, Pin], requirements: list[Requirement], lock_name: str) -> None:
    missing = [str(req) for req in requirements if canonicalize_name(req.name) not in lock]
    assert not missing, f"{lock_name} lacks {missing}: run `make lock`"
    outside = [
        f"{req} (locked {lock[canonicalize_name(req.name)].version})"
        for req in requirements
        if not req.specifier.contains(lock[canonicalize_name(req.name)].version, prereleases=True)
    ]
    assert not outside, f"{lock_name} pins outside pyproject.toml's ranges: {outside}"


def test_the_runtime_lock_covers_every_runtime_dependency(runtime: dict[str, Pin]) -> None:
    _assert_covers(runtime, _requirements("runtime"), "requirements/runtime.txt")


@pytest.mark.parametrize("group", _groups())
def test_the_dev_lock_covers_every_dependency(dev: dict[str, Pin], group: str) -> None:
    _assert_covers(dev, _requirements(group), "requirements/dev.txt")


def test_the_dev_lock_pins_setuptools_and_pip_for_the_build(dev: dict[str, Pin]) -> None:
    """`make install` builds without isolation: the build requirements come from the lock."""
    build = [Requirement(text) for text in _pyproject()["build-system"]["requires"]]
    _assert_covers(dev, build, "requirements/dev.txt (build-system.requires)")
    assert "pip" in dev


def test_the_build_lock_covers_the_build_requirements() -> None:
    build = [Requirement(text) for text in _pyproject()["build-system"]["requires"]]
    _assert_covers(read_lock(BUILD_LOCK), build, "requirements/build.txt")


@pytest.mark.parametrize("path", [RUNTIME_LOCK, DEV_LOCK, BUILD_LOCK], ids=lambda p: p.name)
def test_every_pin_has_hashes(path: Path) -> None:
    lock = read_lock(path)
    assert lock, f"{path} pins nothing"
    unhashed = [name for name, pin in lock.items() if pin.hashes == 0]
    assert not unhashed, f"{path.name} pins without --hash: {unhashed}"


@pytest.mark.parametrize("path", [RUNTIME_LOCK, BUILD_LOCK], ids=lambda p: p.name)
def test_the_locks_agree_with_the_dev_lock(path: Path, dev: dict[str, Pin]) -> None:
    """The image runs (and is built with) the same versions the tests ran."""
    lock = read_lock(path)
    assert lock.keys() <= dev.keys(), sorted(lock.keys() - dev.keys())
    differ = {
        name: (str(pin.version), str(dev[name].version))
        for name, pin in lock.items()
        if pin.version != dev[name].version
    }
    assert not differ, differ


def test_the_project_itself_is_not_in_the_lock(dev: dict[str, Pin]) -> None:
    assert canonicalize_name(PROJECT) not in dev


def test_the_build_generates_code_the_locked_runtime_can_run(runtime: dict[str, Pin]) -> None:
    """Generated _pb2_grpc.py refuses a grpcio older than the grpcio-tools that wrote it."""
    build = {
        canonicalize_name(req.name): req
        for req in (Requirement(text) for text in _pyproject()["build-system"]["requires"])
    }
    tools = build["grpcio-tools"]
    (pinned,) = (Version(spec.version) for spec in tools.specifier if spec.operator == "==")
    dev = read_lock(DEV_LOCK)
    assert pinned == dev["grpcio-tools"].version, (
        f"build-system grpcio-tools=={pinned} but the lock has {dev['grpcio-tools'].version}: "
        "set build-system.requires to the locked version"
    )
    assert runtime["grpcio"].version >= pinned
