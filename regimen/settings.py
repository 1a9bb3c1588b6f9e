"""Per-site settings: limits a site may tighten, never loosen, with the catalogue's defaults.

Loaded from a TOML file (``--config`` / ``REGIMENGUARD_CONFIG``); an invalid file stops
start-up with one line naming the key. The settings' identity is part of
``knowledge_base_version``, so every answer says which configuration produced it.

A site may lower a limit, never raise it: the ceilings are data (``dosing/data/site_bounds.csv``,
each row naming its source; where several rows bound one key, the lowest binds), and a course
limit may not exceed the catalogue's own (``dosing/data/course_limits.csv``, checked once the
knowledge base is loaded). A number that is not finite (``inf``, ``nan``) is refused anywhere
in the file.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from regimenguard.dosing.acetaminophen import AcetaminophenLimits
from regimenguard.dosing.tables import DATA_DIR as DOSING_DATA_DIR
from regimenguard.interactions.datafile import load_table
from regimenguard.interactions.severity import Severity

BOUNDS_FILE = DOSING_DATA_DIR / "site_bounds.csv"


class SettingsError(ValueError):
    """The configuration file cannot be used; the message names the key."""


@dataclass(frozen=True, slots=True)
class Settings:
    acetaminophen: AcetaminophenLimits = field(default_factory=AcetaminophenLimits)
    mme_warning_per_day: float = 50.0
    mme_critical_per_day: float = 90.0
    # Site overrides of the longest muscle-relaxant course (dosing/data/course_limits.csv holds
    # the defaults: 28 days, carisoprodol 21): for every muscle relaxant, and by drug.
    muscle_relaxant_max_days: float | None = None
    muscle_relaxant_max_days_by_drug: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType({})
    )
    max_medications_per_request: int = 100
    max_requests_per_batch: int = 1000
    max_text_length: int = 200
    minimum_severity: Severity = Severity.INFO
    # the site's NDC-to-RxCUI crosswalk file (formulary.ndc_crosswalk; relative to the file)
    ndc_crosswalk: Path | None = None
    name: str = "default"
    identity: str = "default"
    path: str = ""  # the file the settings came from ("" for the defaults)


@dataclass(frozen=True, slots=True)
class Bound:
    """The most a site may set ``key`` to, and who says so."""

    key: str  # "acetaminophen.standard_limit_mg_per_day"
    ceiling: float
    source: str


def load_bounds(path: Path = BOUNDS_FILE) -> Mapping[str, Bound]:
    """The binding (lowest) ceiling of each key; raises DataError naming the file and row."""

    def parse(row: Any) -> Bound:
        ceiling = row.number("ceiling", required=True)
        key = row.text("key")
        if key.split(".", 1)[0] == key or tuple(key.split(".", 1)) not in _KEYS:
            raise ValueError(f"key {key!r} is not a site configuration key")
        if not math.isfinite(ceiling) or ceiling <= 0:
            raise ValueError(f"ceiling must be a positive finite number, not {ceiling}")
        return Bound(key, ceiling, row.text("source"))

    bounds: dict[str, Bound] = {}
    for _line, bound in load_table(path, ("key", "ceiling", "source"), parse):
        if bound.key not in bounds or bound.ceiling < bounds[bound.key].ceiling:
            bounds[bound.key] = bound
    return MappingProxyType(bounds)


# Sections read by a front door, not by the checker (server/http/config.py: [cds_hooks]).
OTHER_SECTIONS = frozenset({"cds_hooks"})
_KEYS = {
    ("acetaminophen", "standard_limit_mg_per_day"),
    ("acetaminophen", "reduced_limit_mg_per_day"),
    ("opioids", "mme_warning_per_day"),
    ("opioids", "mme_critical_per_day"),
    ("muscle_relaxants", "max_days"),
    ("muscle_relaxants", "max_days_by_drug"),
    ("limits", "max_medications_per_request"),
    ("limits", "max_requests_per_batch"),
    ("limits", "max_text_length"),
    ("reporting", "minimum_severity"),
    ("site", "name"),
    ("formulary", "ndc_crosswalk"),
}


def load_settings(path: Path | None, bounds: Mapping[str, Bound] | None = None) -> Settings:
    """Defaults when ``path`` is None; otherwise the file's values over the defaults.

    Raises SettingsError (one line: the file, the key and, for a raised limit, its bound).
    """
    if path is None:
        return Settings()
    try:
        raw = path.read_bytes()
        document = tomllib.loads(raw.decode("utf-8"))
    except OSError as error:
        raise SettingsError(f"{path}: cannot read: {error.strerror}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"{path}: not valid TOML: {error}") from None
    settings = _settings_from(document, identity=hashlib.sha256(raw).hexdigest()[:12], path=path)
    _refuse_raised_limits(document, load_bounds() if bounds is None else bounds, path)
    return settings


def _refuse_non_finite(value: Any, key: str, path: Path) -> None:
    """``inf`` and ``nan`` switch a limit off or make a rule fire on everything: refused."""
    if isinstance(value, float) and not math.isfinite(value):
        raise SettingsError(f"{path}: {key} = {value} is not a finite number")
    if isinstance(value, dict):
        for name, item in value.items():
            _refuse_non_finite(item, f"{key}.{name}", path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_non_finite(item, f"{key}[{index}]", path)


def _refuse_raised_limits(
    document: dict[str, Any], bounds: Mapping[str, Bound], path: Path
) -> None:
    for key, bound in bounds.items():
        section, name = key.split(".", 1)
        value = document.get(section, {}).get(name)
        if value is not None and value > bound.ceiling:
            raise SettingsError(
                f"{path}: {key} = {value:g} is above {bound.ceiling:g}, the most a site may set "
                f"({bound.source}); a site may only lower it"
            )


def _crosswalk_path(document: dict[str, Any], path: Path) -> Path | None:
    value = document.get("formulary", {}).get("ndc_crosswalk")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(f"{path}: formulary.ndc_crosswalk must be a file path")
    crosswalk = Path(value)
    return crosswalk if crosswalk.is_absolute() else path.parent / crosswalk


def _settings_from(document: dict[str, Any], *, identity: str, path: Path) -> Settings:
    for section, table in document.items():
        if section in OTHER_SECTIONS:
            continue
        if not isinstance(table, dict):
            raise SettingsError(f"{path}: [{section}] must be a table")
        for key in table:
            if (section, key) not in _KEYS:
                raise SettingsError(f"{path}: unknown key {section}.{key}")
    for section, table in document.items():
        _refuse_non_finite(table, section, path)

    def number(section: str, key: str, default: float, *, whole: bool = False) -> Any:
        value = document.get(section, {}).get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise SettingsError(f"{path}: {section}.{key} must be a number")
        if value <= 0 or (whole and value != int(value)):
            kind = "a positive whole number" if whole else "a positive number"
            raise SettingsError(f"{path}: {section}.{key} must be {kind}")
        return int(value) if whole else float(value)

    defaults = Settings()
    by_drug = document.get("muscle_relaxants", {}).get(
        "max_days_by_drug", dict(defaults.muscle_relaxant_max_days_by_drug)
    )
    if not isinstance(by_drug, dict):
        raise SettingsError(f"{path}: muscle_relaxants.max_days_by_drug must be a table")
    for drug, days in by_drug.items():
        if (
            isinstance(days, bool)
            or not isinstance(days, int | float)
            or not math.isfinite(days)
            or days <= 0
        ):
            raise SettingsError(
                f"{path}: muscle_relaxants.max_days_by_drug.{drug} must be a positive number"
            )
    severity_name = document.get("reporting", {}).get("minimum_severity", "INFO")
    # A site may hide advice (INFO) but never warnings: a hidden WARNING still makes the verdict
    # REVIEW, and an answer whose reason is not shown helps no one.
    if str(severity_name).upper() not in ("INFO", "WARNING"):
        raise SettingsError(f"{path}: reporting.minimum_severity must be INFO or WARNING")
    minimum = Severity.parse(str(severity_name))
    settings = Settings(
        acetaminophen=AcetaminophenLimits(
            standard_mg_per_day=number(
                "acetaminophen",
                "standard_limit_mg_per_day",
                defaults.acetaminophen.standard_mg_per_day,
            ),
            reduced_mg_per_day=number(
                "acetaminophen",
                "reduced_limit_mg_per_day",
                defaults.acetaminophen.reduced_mg_per_day,
            ),
        ),
        mme_warning_per_day=number("opioids", "mme_warning_per_day", defaults.mme_warning_per_day),
        mme_critical_per_day=number(
            "opioids", "mme_critical_per_day", defaults.mme_critical_per_day
        ),
        muscle_relaxant_max_days=(
            number("muscle_relaxants", "max_days", 28.0)
            if "max_days" in document.get("muscle_relaxants", {})
            else None
        ),
        muscle_relaxant_max_days_by_drug=MappingProxyType(
            {str(drug).casefold(): float(days) for drug, days in by_drug.items()}
        ),
        max_medications_per_request=number(
            "limits",
            "max_medications_per_request",
            defaults.max_medications_per_request,
            whole=True,
        ),
        max_requests_per_batch=number(
            "limits", "max_requests_per_batch", defaults.max_requests_per_batch, whole=True
        ),
        max_text_length=number("limits", "max_text_length", defaults.max_text_length, whole=True),
        minimum_severity=minimum,
        ndc_crosswalk=_crosswalk_path(document, path),
        name=str(document.get("site", {}).get("name", path.stem)),
        identity=identity,
        path=str(path),
    )
    if settings.mme_warning_per_day > settings.mme_critical_per_day:
        raise SettingsError(
            f"{path}: opioids.mme_warning_per_day must not exceed mme_critical_per_day"
        )
    if settings.acetaminophen.reduced_mg_per_day > settings.acetaminophen.standard_mg_per_day:
        raise SettingsError(
            f"{path}: acetaminophen.reduced_limit_mg_per_day must not exceed standard_limit_mg_per_day"
        )
    return settings
