"""The wheel test's background preparation reports a failed step to each test that needs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import wheel_support


def test_a_failed_build_fails_both_the_build_and_the_venv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_build(work: Path) -> tuple[Path, str]:
        raise wheel_support.StepFailed("pip wheel failed (1):\nno compiler")

    monkeypatch.setattr(wheel_support, "_build_wheel", failing_build)
    preparation = wheel_support.Preparation(tmp_path).start()
    with pytest.raises(wheel_support.StepFailed, match="no compiler"):
        preparation.build()
    with pytest.raises(wheel_support.StepFailed, match="no compiler"):
        preparation.venv()


def test_a_failed_install_keeps_the_build_and_fails_the_venv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = tmp_path / "regimen_guard-0-py3-none-any.whl"
    monkeypatch.setattr(wheel_support, "_build_wheel", lambda work: (wheel, "built"))

    def failing_install(built: Path, work: Path) -> Path:
        raise wheel_support.StepFailed("installing requirements/runtime.txt failed (1)")

    monkeypatch.setattr(wheel_support, "_install", failing_install)
    preparation = wheel_support.Preparation(tmp_path)  # not started: prepared on demand
    assert preparation.build() == (wheel, "built")
    with pytest.raises(wheel_support.StepFailed, match=r"runtime\.txt"):
        preparation.venv()
