"""Running from a wheel shipped with ``spark-submit --py-files``: unpack it once per process.

``--py-files`` puts the wheel itself on ``sys.path`` (Python imports from the zip), but the
knowledge base's data files are read from the file system. When this package is imported from
inside a zip, the whole archive is unpacked once into a temporary folder that goes first on
``sys.path``, before any module that reads data is imported; nothing happens otherwise.
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

_UNPACKED: list[str] = []


def _archive() -> Path | None:
    here = Path(__file__).resolve(strict=False)
    for parent in here.parents:
        if parent.suffix in (".whl", ".zip", ".egg") and zipfile.is_zipfile(parent):
            return parent
    return None


def unpack_if_zipped() -> None:
    if _UNPACKED:
        return
    archive = _archive()
    if archive is None:
        return
    folder = tempfile.mkdtemp(prefix="regimen-guard-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    with zipfile.ZipFile(archive) as wheel:
        wheel.extractall(folder)
    sys.path.insert(0, folder)
    _UNPACKED.append(folder)
