"""Reading versioned CSV data files, with errors that name the file and the row."""

from __future__ import annotations

import csv
import hashlib
import io
import tomllib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple, TypeVar

T = TypeVar("T")


class DataError(ValueError):
    """A data file is missing, malformed, or inconsistent; start-up must stop."""


class Row(NamedTuple):
    """One CSV row with its location, for error messages (a named tuple: files are large)."""

    path: Path
    line: int
    values: dict[str, str]

    def text(self, column: str, *, required: bool = True) -> str:
        value = self.values[column].strip()
        if required and not value:
            raise self.error(f"column {column!r} is empty")
        return value

    def number(self, column: str, *, required: bool = False) -> float | None:
        value = self.text(column, required=required)
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            raise self.error(f"column {column!r} is not a number: {value!r}") from None
        if not (number > 0 and number != float("inf")):
            raise self.error(f"column {column!r} must be a positive number: {value!r}")
        return number

    def flag(self, column: str) -> bool:
        value = self.text(column, required=False).lower()
        if value not in ("", "yes", "no"):
            raise self.error(f"column {column!r} must be 'yes' or empty, not {value!r}")
        return value == "yes"

    def items(self, column: str) -> tuple[str, ...]:
        return split_items(self.values[column])

    def error(self, message: str) -> DataError:
        return DataError(f"{self.path.name} row {self.line}: {message}")


def split_items(value: str) -> tuple[str, ...]:
    """A cell of ``a; b`` as ``("a", "b")``; an empty cell as ``()``."""
    if ";" not in value:
        value = value.strip()
        return (value,) if value else ()
    return tuple(item.strip() for item in value.split(";") if item.strip())


def read_rows(path: Path, columns: Sequence[str]) -> Iterator[Row]:
    """Yield the rows of a CSV file whose header must be exactly ``columns``.

    Bytes that are not UTF-8, an unterminated quote and a last row cut off before its line
    ends (a truncated copy) are DataErrors naming this file and the row.
    """
    if not path.is_file():
        raise DataError(f"{path.name}: data file missing at {path}")
    text = _decode(path)
    if text and not text.endswith(("\n", "\r")):
        row = text.count("\n") + 1
        raise DataError(f"{path.name} row {row}: the file ends in the middle of a row (truncated)")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header != list(columns):
            raise DataError(f"{path.name} row 1: header must be {','.join(columns)}, not {header}")
        width = len(header)
        for cells in reader:
            if not cells:
                continue  # a blank line, as csv.DictReader skips it
            if len(cells) != width:
                raise DataError(f"{path.name} row {reader.line_num}: wrong number of cells")
            yield Row(path, reader.line_num, dict(zip(header, cells, strict=True)))
    except csv.Error as error:
        raise DataError(f"{path.name} row {reader.line_num}: {error}") from None


def _decode(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataError(f"{path.name}: cannot read {path}: {error.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        row = data.count(b"\n", 0, error.start) + 1
        raise DataError(
            f"{path.name} row {row}: not UTF-8 text (byte 0x{data[error.start]:02x} "
            f"at offset {error.start})"
        ) from None


def load_table(
    path: Path, columns: Sequence[str], parse: Callable[[Row], T]
) -> tuple[tuple[int, T], ...]:
    """Parse every row of a CSV file into ``(line, record)`` pairs.

    A ValueError from ``parse`` is reported with the file and row.
    """
    parsed: list[tuple[int, T]] = []
    for row in read_rows(path, columns):
        try:
            parsed.append((row.line, parse(row)))
        except DataError:
            raise
        except ValueError as error:
            raise row.error(str(error)) from None
    return tuple(parsed)


def read_manifest(directory: Path) -> dict[str, object]:
    path = directory / "manifest.toml"
    try:
        with path.open("rb") as handle:
            manifest = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise DataError(f"{path.name}: {error}") from None
    except UnicodeDecodeError as error:
        raise DataError(
            f"{path.name}: not UTF-8 text ({error.reason} at byte {error.start})"
        ) from None
    if not isinstance(manifest.get("version"), str):
        raise DataError(f"{path.name}: 'version' must be a string")
    return manifest


def content_hash(paths: Sequence[Path]) -> str:
    """SHA-256 over the files' names and bytes, in a stable order."""
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: (p.parent.name, p.name)):
        digest.update(f"{path.parent.name}/{path.name}\0".encode())
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()
