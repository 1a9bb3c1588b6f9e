"""Writes an offline buf workspace for ``make lint`` (see buf.yaml for why and what).

    python tools/buf_workspace.py build/buf/current
    python tools/buf_workspace.py build/buf/against --git-ref HEAD~1

The workspace holds ``protos/`` (a symlink to the repository's, or the ``protos/`` of a git
revision), ``googleapis/`` (the .proto files of googleapis-common-protos) and a ``buf.yaml``
made from the repository's: its lint and breaking rules, those two modules, no BSR deps.
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tarfile
from importlib import metadata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PROTOS = "protos"
GOOGLEAPIS = "googleapis"
GOOGLEAPIS_DISTRIBUTION = "googleapis-common-protos"


def googleapis_protos() -> list[tuple[str, Path]]:
    """(path inside the module, file) for every .proto that googleapis-common-protos installs."""
    distribution = metadata.distribution(GOOGLEAPIS_DISTRIBUTION)
    found = [
        (str(file), Path(str(distribution.locate_file(file))))
        for file in distribution.files or ()
        if file.suffix == ".proto" and file.parts[0] == "google"
    ]
    if not any(name == "google/rpc/status.proto" for name, _ in found):
        raise SystemExit(f"{GOOGLEAPIS_DISTRIBUTION} has no google/rpc/status.proto")
    return found


def workspace_config(root: Path = ROOT) -> dict:
    """The repository's buf.yaml with its modules and deps replaced by the offline modules."""
    config = yaml.safe_load((root / "buf.yaml").read_text(encoding="utf-8"))
    config.pop("deps", None)
    config["modules"] = [{"path": PROTOS}, {"path": GOOGLEAPIS}]
    for section in ("lint", "breaking"):
        rules = config.setdefault(section, {})
        rules["ignore"] = sorted({*rules.get("ignore", ()), GOOGLEAPIS})
    return config


def export_protos(ref: str, destination: Path, root: Path = ROOT) -> None:
    """``protos/`` as it was at ``ref``, without generated code."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, PROTOS],
        cwd=root,
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        members = [member for member in tar.getmembers() if member.name.endswith(".proto")]
        tar.extractall(destination, members=members, filter="data")


def write_workspace(destination: Path, git_ref: str | None = None, root: Path = ROOT) -> None:
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    if git_ref is None:
        (destination / PROTOS).symlink_to(root / PROTOS, target_is_directory=True)
    else:
        export_protos(git_ref, destination, root)
    for name, source in googleapis_protos():
        target = destination / GOOGLEAPIS / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    (destination / "buf.yaml").write_text(
        "# Written by tools/buf_workspace.py from the repository's buf.yaml: do not edit.\n"
        + yaml.safe_dump(workspace_config(root), sort_keys=False),
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("destination", type=Path)
    parser.add_argument("--git-ref", help="protos/ of this revision instead of the work tree's")
    args = parser.parse_args(argv)
    write_workspace(args.destination, args.git_ref)
    return 0


if __name__ == "__main__":
    sys.exit(main())
