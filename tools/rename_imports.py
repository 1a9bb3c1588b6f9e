"""Moves every installed package under the one top-level import name ``regimenguard``.

The repository keeps its folders (``server/``, ``interactions/``, ``dosing/``, ``regimen/``,
``client/``, and any other top-level folder with an ``__init__.py``); what changes is the name
they are imported by: ``server.app`` becomes ``regimenguard.server.app``, beside the generated
``regimenguard.v1``. This script rewrites, in place:

- Python imports (``from server.app import X``, ``import server.app as a``);
- module paths in Python strings and comments (``mock.patch("server.main.time")``,
  ``[sys.executable, "-m", "client.cli"]``, ``"client.cli:main"``), and in Markdown, YAML,
  the Makefile, the Dockerfile and ``.ci/run``. A dotted name is rewritten only when it names a
  real module or subpackage (``server.app``: ``server/app.py`` exists), so ``regimen.json``,
  ``client.js`` or an f-string's ``{server.port}`` are left alone;
- pyproject.toml: ``package-dir`` (one mapping per folder), ``packages`` (every folder under
  them, data folders included, so setuptools warns about none), the keys of
  ``[tool.setuptools.package-data]``, ``[project.scripts]`` and ruff's ``known-first-party``.

It is idempotent: names already under ``regimenguard.`` are not touched, so running it again
(after merging a branch that still used the old names, say) rewrites only what is new.

    python tools/rename_imports.py --dry-run   # print the diff, change nothing
    python tools/rename_imports.py             # rewrite, then ruff fixes the import order

After merging every branch: run it, then ``make lock`` (new dependencies), ``make test``,
``make lint``; commit. New top-level folders with an ``__init__.py`` (``fhir/``, ``review/``)
are found by themselves; ``tests``, ``bench`` and ``tools`` stay top-level (NOT_PACKAGES).
Exit status 1 when something needs a hand edit (listed on stderr).

A bare ``import server.app`` (used as ``server.app.X``) cannot be rewritten safely by name; the
script lists any it finds and leaves them for a hand edit (there are none today).
"""

from __future__ import annotations

import argparse
import difflib
import io
import re
import shutil
import subprocess
import sys
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP = "regimenguard"
# The generated API's folder: its package is already `regimenguard`.
API_DIR = Path("protos") / TOP
# Folders that are never installed as packages, nor searched for files to rewrite.
NOT_PACKAGES = frozenset({"tests", "bench", "tools", "protos", "build", "dist", "docs", "deploy"})
SKIP_DIRS = frozenset(
    {
        ".git",
        ".venv",
        "node_modules",
        "__pycache__",
        "build",
        "dist",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        ".mypy_cache",
    }
)
TEXT_SUFFIXES = frozenset({".md", ".yaml", ".yml", ".cfg", ".ini", ".toml", ".txt", ".sh"})
TEXT_NAMES = frozenset({"Makefile", "Dockerfile", "run"})
GENERATED = re.compile(r"_pb2(_grpc)?\.pyi?$")


@dataclass
class Plan:
    root: Path
    packages: tuple[str, ...]
    changes: dict[Path, tuple[str, str]] = field(default_factory=dict)
    manual: list[str] = field(default_factory=list)

    def change(self, path: Path, before: str, after: str) -> None:
        if before != after:
            self.changes[path] = (before, after)


# --- what the packages are ----------------------------------------------------------------


def top_level_packages(root: Path) -> tuple[str, ...]:
    """Top-level folders with an ``__init__.py`` that are installed (not tests, tools, ...)."""
    return tuple(
        sorted(
            path.name
            for path in root.iterdir()
            if path.is_dir()
            and (path / "__init__.py").is_file()
            and path.name not in NOT_PACKAGES
            and path.name != TOP
            and not path.name.startswith(".")
        )
    )


def is_module_path(root: Path, dotted: str) -> bool:
    """True when ``a.b...`` names a module (``a/b.py``), a subpackage (``a/b/``) or an attribute
    of one (``a.b.C``), so that ``regimen.json`` or ``server.port`` are not taken for modules."""
    parts = dotted.split(".")
    top = path = root / parts[0]
    for part in parts[1:]:
        if (path / part).is_dir():
            path = path / part
            continue
        return (path / f"{part}.py").is_file() or path != top
    return True


def package_dirs(root: Path, top: str) -> list[str]:
    """Every folder under a top-level package that holds files, as dotted package names."""
    found = []
    for directory in sorted([root / top, *(root / top).rglob("*")]):
        if not directory.is_dir():
            continue
        relative = directory.relative_to(root)
        if any(
            part in SKIP_DIRS or part.startswith(".") or part.endswith(".egg-info")
            for part in relative.parts
        ):
            continue
        if any(child.is_file() for child in directory.iterdir()):
            found.append(".".join(relative.parts))
    return found


# --- rewriting ----------------------------------------------------------------------------


def dotted_pattern(packages: Iterable[str]) -> re.Pattern[str]:
    names = "|".join(sorted(map(re.escape, packages), key=len, reverse=True))
    return re.compile(rf"(?<![\w./-])(?:{names})(?:\.[A-Za-z_]\w*)+")


def rewrite_text(text: str, root: Path, pattern: re.Pattern[str]) -> str:
    """Prefixes ``regimenguard.`` to every dotted name in ``text`` that names a real module."""

    def replace(match: re.Match[str]) -> str:
        dotted = match[0]
        return f"{TOP}.{dotted}" if is_module_path(root, dotted) else dotted

    return pattern.sub(replace, text)


def _import_edits(
    tokens: list[tokenize.TokenInfo], packages: frozenset[str], path: Path, manual: list[str]
) -> Iterator[tuple[tuple[int, int], tuple[int, int], str]]:
    """(start, end, replacement) for the module names of import statements."""
    for index, token in enumerate(tokens):
        if token.type != tokenize.NAME or token.string not in {"from", "import"}:
            continue
        previous = tokens[index - 1] if index else None
        at_statement_start = (
            previous is None
            or previous.type
            in {
                tokenize.NEWLINE,
                tokenize.NL,
                tokenize.INDENT,
                tokenize.DEDENT,
                tokenize.ENCODING,
            }
            or (previous.type == tokenize.OP and previous.string == ";")
        )
        if not at_statement_start:
            continue
        # The dotted names that follow: `from a.b import`, `import a.b as c, d`.
        position = index + 1
        while position < len(tokens):
            name = tokens[position]
            if name.type != tokenize.NAME:
                break
            end = position
            while (
                end + 2 < len(tokens)
                and tokens[end + 1].string == "."
                and tokens[end + 2].type == tokenize.NAME
            ):
                end += 2
            if name.string in packages:
                dotted = "".join(t.string for t in tokens[position : end + 1])
                aliased = end + 2 < len(tokens) and tokens[end + 1].string == "as"
                if token.string == "from" or aliased:
                    yield name.start, name.start, f"{TOP}."
                elif "." not in dotted:  # import server -> import regimenguard.server as server
                    yield name.start, name.end, f"{TOP}.{dotted} as {dotted}"
                else:
                    manual.append(f"{path}:{name.start[0]}: import {dotted} (used as {dotted}.X)")
            if token.string == "from":
                break
            position = end + 1
            if position < len(tokens) and tokens[position].string == "as":
                position += 2
            if position < len(tokens) and tokens[position].string == ",":
                position += 1
                continue
            break


def rewrite_python(
    source: str,
    root: Path,
    packages: frozenset[str],
    pattern: re.Pattern[str],
    path: Path,
    manual: list[str],
) -> str:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError) as error:
        manual.append(f"{path}: not tokenizable ({error}); left as it is")
        return source
    edits = list(_import_edits(tokens, packages, path, manual))
    for token in tokens:
        if token.type in {tokenize.STRING, tokenize.COMMENT} or token.type == getattr(
            tokenize, "FSTRING_MIDDLE", -1
        ):
            rewritten = rewrite_text(token.string, root, pattern)
            if rewritten != token.string:
                edits.append((token.start, token.end, rewritten))
    if not edits:
        return source
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def offset(point: tuple[int, int]) -> int:
        return offsets[point[0] - 1] + point[1]

    text = source
    for start, end, replacement in sorted(
        edits, key=lambda e: (offset(e[0]), offset(e[1])), reverse=True
    ):
        text = text[: offset(start)] + replacement + text[offset(end) :]
    return text


# --- pyproject.toml -----------------------------------------------------------------------


def rewrite_pyproject(
    text: str, root: Path, packages: tuple[str, ...], pattern: re.Pattern[str]
) -> str:
    mapping = ", ".join(
        [f'"{TOP}" = "{API_DIR.as_posix()}"', *(f'"{TOP}.{name}" = "{name}"' for name in packages)]
    )
    text = re.sub(r"(?m)^package-dir = \{.*\}$", f"package-dir = {{ {mapping} }}", text)
    api = [
        ".".join(path.relative_to(root / "protos").parts)
        for path in sorted([root / API_DIR, *(root / API_DIR).iterdir()])
        if path.is_dir() and path.name not in SKIP_DIRS
    ]
    listed = [*api, *(f"{TOP}.{name}" for top in packages for name in package_dirs(root, top))]
    block = "packages = [\n" + "".join(f'    "{name}",\n' for name in listed) + "]"
    text = re.sub(r"(?ms)^packages = \[\n.*?^\]", lambda _: block, text, count=1)

    def data_key(match: re.Match[str]) -> str:
        key = match[1].strip('"')
        if key.split(".")[0] in packages:
            key = f"{TOP}.{key}"
        return f'"{key}" ='

    table = re.search(r"(?ms)^\[tool\.setuptools\.package-data\]\n(.*?)(?=^\[|\Z)", text)
    if table:
        body = re.sub(r'(?m)^("?[\w.]+"?) =', data_key, table[1])
        text = text[: table.start(1)] + body + text[table.end(1) :]

    def first_party(match: re.Match[str]) -> str:
        names = re.findall(r'"([^"]+)"', match[1])
        kept = [TOP, *(name for name in names if name != TOP and name not in packages)]
        return "known-first-party = [" + ", ".join(f'"{name}"' for name in kept) + "]"

    text = re.sub(r"(?m)^known-first-party = \[(.*)\]$", first_party, text)
    scripts = re.search(r"(?ms)^\[project\.scripts\]\n(.*?)(?=^\[|\Z)", text)
    if scripts:
        body = rewrite_text(scripts[1], root, pattern)
        text = text[: scripts.start(1)] + body + text[scripts.end(1) :]
    return text


# --- the whole tree -----------------------------------------------------------------------


def files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part in SKIP_DIRS for part in relative.parts[:-1]) or not path.is_file():
            continue
        if GENERATED.search(path.name) or relative.parts[0] in SKIP_DIRS:
            continue
        yield path


def plan(root: Path = ROOT) -> Plan:
    packages = top_level_packages(root)
    result = Plan(root, packages)
    pattern = dotted_pattern(packages)
    names = frozenset(packages)
    for path in files(root):
        relative = path.relative_to(root)
        if relative == Path("pyproject.toml"):
            before = path.read_text(encoding="utf-8")
            result.change(path, before, rewrite_pyproject(before, root, packages, pattern))
        elif relative == Path("tools") / "rename_imports.py":
            continue  # its examples stay as they are
        elif path.suffix in {".py", ".pyi"}:
            before = path.read_text(encoding="utf-8")
            after = rewrite_python(before, root, names, pattern, relative, result.manual)
            result.change(path, before, after)
        elif path.suffix in TEXT_SUFFIXES or path.name in TEXT_NAMES:
            if relative.parts[0] == "requirements":
                continue
            before = path.read_text(encoding="utf-8")
            result.change(path, before, rewrite_text(before, root, pattern))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--no-ruff", action="store_true", help="do not re-sort imports after")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    result = plan(root)
    print(f"packages under {TOP}.: {', '.join(result.packages) or '(none)'}", file=sys.stderr)
    for path, (before, after) in result.changes.items():
        relative = path.relative_to(root).as_posix()
        if args.dry_run:
            sys.stdout.writelines(
                difflib.unified_diff(
                    before.splitlines(keepends=True),
                    after.splitlines(keepends=True),
                    f"a/{relative}",
                    f"b/{relative}",
                )
            )
        else:
            path.write_text(after, encoding="utf-8")
    verb = "would change" if args.dry_run else "changed"
    print(f"{verb} {len(result.changes)} files", file=sys.stderr)
    for note in result.manual:
        print(f"edit by hand: {note}", file=sys.stderr)
    python_changed = [str(p) for p in result.changes if p.suffix in {".py", ".pyi"}]
    ruff = shutil.which("ruff") or str(root / ".venv" / "bin" / "ruff")
    if not args.dry_run and not args.no_ruff and python_changed and Path(ruff).exists():
        subprocess.run(
            [ruff, "check", "--fix", "--select", "I", "--quiet", *python_changed],
            cwd=root,
            check=False,
        )
        subprocess.run([ruff, "format", "--quiet", *python_changed], cwd=root, check=False)
    return 1 if result.manual else 0


if __name__ == "__main__":
    sys.exit(main())
