"""The interaction tables as parsed, kept beside the data files: bytecode, for data.

Parsing the CSV files row by row (``load_interaction_data``: about 1,600 products, every cell
checked) is most of the knowledge base's start-up. ``make install`` and the container build run
``python -m regimenguard.interactions.snapshot``, which parses them once, exactly as start-up
does, and writes the parsed tables to ``interaction_data.snapshot`` in the data directory.

Start-up uses a snapshot only when its key matches: a SHA-256 over the bytes of every data file
it was made from, the source of every module that parses them, and the Python version. Change a
data file, the parsing code or the interpreter, and start-up parses the CSV files as before (and
refuses bad rows as before); a missing, stale or unreadable snapshot is never an error, only
slower. The graph, its validation and every index are still built from the tables at each
start-up: the snapshot holds rows, nothing derived from them.

The file is written by this project's own build into its own package directory and read with
``pickle``; it is as trusted as the code beside it, and nothing else writes it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SNAPSHOT_NAME = "interaction_data.snapshot"
# the modules whose code decides what a row parses to (this one included: the format)
PARSING_MODULES = (
    "datafile.py",
    "knowledge_base.py",
    "products.py",
    "rxnorm_names.py",
    "severity.py",
    "substances.py",
    "snapshot.py",
)
_CODE_DIR = Path(__file__).resolve().parent
_MAGIC = b"regimenguard interaction data snapshot 1\n"


def snapshot_key(data_files: Sequence[Path]) -> str:
    """SHA-256 over the data files' names and bytes, the parsing code, and the Python version."""
    digest = hashlib.sha256(sys.version.encode())
    for path in (*sorted(data_files), *(_CODE_DIR / name for name in PARSING_MODULES)):
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def read_snapshot(directory: Path, data_files: Sequence[Path]) -> Any | None:
    """The tables saved for exactly these data files and this code, or None."""
    path = directory / SNAPSHOT_NAME
    try:
        with path.open("rb") as handle:
            if handle.readline() != _MAGIC:
                return None
            if handle.readline().strip().decode() != snapshot_key(data_files):
                log.debug("%s is stale: parsing the data files", path)
                return None
            return pickle.load(handle)
    except FileNotFoundError:
        return None
    except Exception as error:  # an unreadable snapshot only means parsing the files
        log.debug("%s unreadable (%s): parsing the data files", path, error)
        return None


def write_snapshot(directory: Path, data_files: Sequence[Path], tables: Any) -> Path:
    """Write ``tables`` (parsed from ``data_files``) atomically beside them."""
    path = directory / SNAPSHOT_NAME
    payload = _MAGIC + snapshot_key(data_files).encode() + b"\n"
    payload += pickle.dumps(tables, protocol=pickle.HIGHEST_PROTOCOL)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{SNAPSHOT_NAME}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m regimenguard.interactions.snapshot [DIR]``: parse DIR (default: the package's
    data) and write its snapshot."""
    from regimenguard.interactions.datafile import DataError
    from regimenguard.interactions.knowledge_base import (
        DATA_DIR,
        data_files,
        write_interaction_snapshot,
    )

    args = list(sys.argv[1:] if argv is None else argv)
    directory = Path(args[0]) if args else DATA_DIR
    if read_snapshot(directory, data_files(directory)) is not None:
        print(f"{directory / SNAPSHOT_NAME} is up to date")
        return 0
    try:
        path = write_interaction_snapshot(directory)
    except DataError as error:  # the server would refuse to start on the same error
        print(f"no snapshot written: {error}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
