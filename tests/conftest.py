"""Shared fixtures: the knowledge base and checker are built once per test session."""

from __future__ import annotations

import datetime as dt
import logging
import sys
import threading
from collections.abc import Iterator

import pytest

from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.knowledge import Knowledge, load_knowledge
from regimenguard.regimen.model import CheckResult, MedicationOrder, Patient, RegimenRequest
from tests import wheel_support

AS_OF = dt.date(2026, 11, 23)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The wheel test's minute of building and installing starts now, beside the other tests
    (tests/wheel_support.py), when that test is among those collected."""
    if any(item.path.name == "test_wheel_install.py" for item in session.items):
        wheel_support.start()


def pytest_sessionfinish(session: pytest.Session) -> None:
    wheel_support.finish()


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return load_knowledge()


@pytest.fixture(scope="session")
def checker(knowledge: Knowledge) -> RegimenChecker:
    return RegimenChecker(knowledge)


@pytest.fixture(scope="session")
def check(checker: RegimenChecker):  # type: ignore[no-untyped-def]
    """``check(*orders, patient=..., as_of=..., acknowledgements=...)`` -> CheckResult."""

    def run(
        *orders: MedicationOrder,
        patient: Patient | None = None,
        as_of: dt.date = AS_OF,
        acknowledgements: tuple = (),
    ) -> CheckResult:
        request = RegimenRequest(
            request_id="test",
            as_of=as_of,
            patient=patient or Patient(),
            medications=tuple(orders),
            acknowledgements=acknowledgements,
        )
        return checker.check(request)

    return run


@pytest.fixture
def keep_logging() -> Iterator[None]:
    """For a test that runs `serve` in this process: `serve` configures logging (root and access
    log, regimenguard.server.log_setup) and the exception hooks; put everything back afterwards."""
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.handlers[:], logger.level, logger.propagate) for logger in loggers]
    hooks = sys.excepthook, threading.excepthook
    yield
    sys.excepthook, threading.excepthook = hooks
    logging.captureWarnings(False)
    for logger, handlers, level, propagate in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and logger not in loggers:
            logging.getLogger(name).handlers.clear()
