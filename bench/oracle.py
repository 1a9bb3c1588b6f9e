"""The old engine as the oracle (issue 13 point 7): one digest per generated regimen.

``python -m bench.oracle --count 100000 --out FILE`` answers regimens 0..count-1 of
``bench.bulkgen`` (``--unique``: the every-order-unique population) bytes to bytes through the
service layer of the code it is run from, and writes one line per regimen: its index and the
SHA-256 of the response (verdict, every finding with its message, recommendation, section and
code, the summary) with ``knowledge_base_version`` cleared (data files may differ by a table
that changes no answer). Run it from two checkouts and compare the files: any line that
differs is a regimen the two engines answer differently; ``--show N`` prints that answer.
"""

from __future__ import annotations

import argparse
import hashlib
import sys

from bench.bulkgen import Generator
from regimenguard.regimen.service import RegimenService
from regimenguard.regimen.validation import RequestInvalid
from regimenguard.server.answer_wire import WireTables
from regimenguard.server.convert import decode_request, response_from_result
from regimenguard.v1 import regimen_checker_pb2 as pb


def answer(
    service: RegimenService, payload: bytes, tables: WireTables | None = None
) -> pb.CheckRegimenResponse:
    """The servicer's answer to ``payload`` (``tables``: its encoded fields, made if None)."""
    domain = decode_request(
        pb.CheckRegimenRequest.FromString(payload),
        service.knowledge,
        records=service.order_records,
    )
    try:
        if tables is None:
            tables = WireTables.of_knowledge(service.knowledge)
        response = response_from_result(service.check(domain), tables=tables)
    except RequestInvalid as invalid:
        return pb.CheckRegimenResponse(
            request_id=invalid.request_id,
            findings=[pb.Finding(rule_id="INVALID", message=str(v)) for v in invalid.violations],
        )
    response.knowledge_base_version = ""
    return response


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.oracle", description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--unique", action="store_true", help="every order unique")
    parser.add_argument("--out", default="-")
    parser.add_argument("--show", type=int, default=None, help="print regimen N's answer")
    args = parser.parse_args(argv)
    service = RegimenService.from_config()
    generator = Generator(unique_orders=args.unique)
    if args.show is not None:
        print(pb.CheckRegimenRequest.FromString(generator.regimen(args.show)))
        print(answer(service, generator.regimen(args.show)))
        return 0
    tables = WireTables.of_knowledge(service.knowledge)
    out = sys.stdout if args.out == "-" else open(args.out, "w")  # noqa: SIM115
    with out:
        for i in range(args.start, args.start + args.count):
            response = answer(service, generator.regimen(i), tables)
            body = response.SerializeToString(deterministic=True)
            out.write(f"{i} {hashlib.sha256(body).hexdigest()}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
