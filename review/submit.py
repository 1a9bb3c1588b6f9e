"""The spark-submit entry point: ``spark-submit [options] review/submit.py INPUT --out DIR``.

Takes the options of ``regimen-guard review`` (the engine is Spark); see
docs/population-review.md for shipping the package to the executors as a wheel.
"""

from __future__ import annotations

import sys

from regimenguard.review.zipship import unpack_if_zipped


def run() -> int:
    unpack_if_zipped()  # the wheel on --py-files: data files need a real folder
    from regimenguard.review.cli import main

    return main(["--engine", "spark", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(run())
