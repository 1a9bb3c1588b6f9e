"""The wheel of tests/test_wheel_install.py, built and installed while the other tests run.

Building the wheel from a copy of the source and installing it with the locked runtime into a
fresh virtual environment takes about a minute, nearly all of it pip unpacking wheels: work
that waits on the disk more than on the interpreter. ``start`` begins it on a thread when the
session's tests are collected (tests/conftest.py), so that minute overlaps the rest of the suite;
the tests' fixtures then wait for the step they need (``Preparation.build`` or ``.venv``) and
see exactly what they would have seen doing it themselves: the same commands, and a failure of
any step raised in the test that needs it. Run alone, the file prepares it on the spot.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_LOCK = ROOT / "requirements" / "runtime.txt"
IGNORED_IN_COPY = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "build", "dist", "*.egg-info", "__pycache__", "*.pyc",
    ".pytest_cache", ".ruff_cache", ".hypothesis", "*_pb2.py", "*_pb2.pyi", "*_pb2_grpc.py",
    "tests", "bench",
)  # fmt: skip
INSTALL_TIMEOUT = 900


class StepFailed(AssertionError):
    """A command of the preparation exited non-zero (its output in the message)."""


def run(command: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
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


def ok(result: subprocess.CompletedProcess, what: str) -> subprocess.CompletedProcess:
    if result.returncode != 0:
        raise StepFailed(f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


class Preparation:
    """The wheel and its virtual environment under ``work``, each step's result (or failure)
    kept for the fixture that asks for it."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self._built = threading.Event()
        self._installed = threading.Event()
        self._build: tuple[Path, str] | None = None
        self._venv: Path | None = None
        self._errors: dict[threading.Event, BaseException] = {}  # a step's failure
        self._thread: threading.Thread | None = None

    def start(self) -> Preparation:
        """Begins the preparation on a thread, unless it is begun or done already."""
        if self._thread is None and not self._installed.is_set():
            self._thread = threading.Thread(target=self._prepare, name="wheel-install", daemon=True)
            self._thread.start()
        return self

    def build(self) -> tuple[Path, str]:
        """(the wheel, what its build printed), once built."""
        self._wait(self._built)
        assert self._build is not None
        return self._build

    def venv(self) -> Path:
        """The bin/ of the virtual environment with the runtime lock and the wheel installed."""
        self._wait(self._installed)
        assert self._venv is not None
        return self._venv

    def remove(self) -> None:
        if self._thread is not None:
            self._thread.join(INSTALL_TIMEOUT)
        shutil.rmtree(self.work, ignore_errors=True)

    def _wait(self, step: threading.Event) -> None:
        if self._thread is None and not self._installed.is_set():  # not in the background
            self._prepare()
        step.wait(INSTALL_TIMEOUT + 600)
        failed = self._errors.get(step) or self._errors.get(self._built)
        if failed is not None:
            raise failed
        assert step.is_set(), "the wheel's preparation did not finish in time"

    def _prepare(self) -> None:
        step = self._built
        try:
            self._build = _build_wheel(self.work)
            self._built.set()
            step = self._installed
            self._venv = _install(self._build[0], self.work)
        except BaseException as error:  # kept for the tests that need the step
            self._errors[step] = error
        finally:
            self._built.set()
            self._installed.set()


def _build_wheel(work: Path) -> tuple[Path, str]:
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=IGNORED_IN_COPY, symlinks=False)
    assert not list(source.rglob("*_pb2.py")), "the copy must not hold generated code"
    dist = work / "dist"
    result = ok(
        run(
            [sys.executable, "-m", "pip", "wheel", "--verbose", "--no-deps",
             "--no-build-isolation", "--wheel-dir", str(dist), str(source)],
            cwd=work,
        ),
        "pip wheel",
    )  # fmt: skip
    (wheel,) = dist.glob("regimen_guard-*.whl")
    return wheel, result.stdout + result.stderr


def _install(wheel: Path, work: Path) -> Path:
    where = work / "venv"
    where.mkdir()
    base_python = getattr(sys, "_base_executable", sys.executable)
    ok(run([base_python, "-m", "venv", str(where / "env")], cwd=where), "python -m venv")
    bin_dir = where / "env" / "bin"
    pip = [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--no-compile"]
    ok(
        run(
            [*pip, "--require-hashes", "-r", str(RUNTIME_LOCK)], cwd=where, timeout=INSTALL_TIMEOUT
        ),
        "installing requirements/runtime.txt",
    )
    ok(run([*pip, "--no-deps", str(wheel)], cwd=where), "installing the wheel")
    return bin_dir


_preparation: Preparation | None = None


def preparation() -> Preparation:
    """The session's preparation: begun by ``start``, or else done on demand."""
    global _preparation
    if _preparation is None:
        _preparation = Preparation(Path(tempfile.mkdtemp(prefix="regimenguard-wheel-")))
    return _preparation


def start() -> None:
    """Begin the session's preparation in the background (at most once)."""
    preparation().start()


def finish() -> None:
    global _preparation
    if _preparation is not None:
        _preparation.remove()
        _preparation = None
