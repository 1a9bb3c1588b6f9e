"""``make accelerate``: compiles the given modules of the core with mypyc, in place.

Run from the staging tree (build/mypyc/, symlinks named like the import package, so mypy names
the modules ``regimenguard.regimen...``); the extensions land beside their .py files through the
symlinks. The modules form one group whose shared runtime gets a fixed name,
``regimenguard_core__mypyc``, so ``make pure`` knows what to remove.

    python tools/mypyc_build.py regimenguard/regimen/engine.py ...
"""

from __future__ import annotations

import sys

from mypyc.build import mypycify
from setuptools import setup

GROUP = "regimenguard_core"


def main(paths: list[str]) -> None:
    extensions = mypycify(
        ["--follow-imports=silent", "--ignore-missing-imports", *paths],
        opt_level="3",
        group_name=GROUP,
    )
    setup(
        name="regimenguard-accelerated",
        ext_modules=extensions,
        script_args=["--quiet", "build_ext", "--inplace"],
    )


if __name__ == "__main__":
    main(sys.argv[1:])
