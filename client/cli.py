"""`regimen-guard`: serve, check, drugs, rules.

Exit status of `check`: 0 ACCEPT, 1 REVIEW, 2 REJECT. Errors exit 3 or more with one line on
stderr and no traceback: 3 usage, 4 input that cannot be checked, 5 server unreachable or
failing, 6 server start-up failure.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

# Only what every command needs is imported here; each command imports its own modules (the
# sig reader, the report, gRPC clients, protobuf JSON), so `serve` starts without the client's.
from regimenguard.client.call_failed import CallFailed
from regimenguard.review.cli import add_review_command, run_review
from regimenguard.server.limits import add_connection_limits
from regimenguard.server.startup_error import StartupError
from regimenguard.v1 import regimen_checker_pb2 as pb

if TYPE_CHECKING:
    from regimenguard.client.backend import Backend
    from regimenguard.regimen.sig import SigReading

EXIT_ACCEPT, EXIT_REVIEW, EXIT_REJECT = 0, 1, 2
EXIT_USAGE, EXIT_INPUT, EXIT_CONNECTION, EXIT_STARTUP = 3, 4, 5, 6
VERDICT_EXIT = {
    pb.VERDICT_ACCEPT: EXIT_ACCEPT,
    pb.VERDICT_REVIEW: EXIT_REVIEW,
    pb.VERDICT_REJECT: EXIT_REJECT,
}
DEFAULT_TARGET = "localhost:50051"
# --flag -> Patient field (flag with dashes, field with underscores) and its help.
PATIENT_FLAGS = {
    "hepatic-impairment": "any hepatic impairment",
    "renal-impairment": "any renal impairment",
    "alcohol-use-disorder": "alcohol use disorder",
    "substance-use-disorder": "history of substance use disorder",
    "seizure-disorder": "seizure disorder",
    "gi-bleed-history": "history of gastrointestinal bleeding",
    "cardiovascular-disease": "cardiovascular disease",
    "refractory": "persistent, disabling symptoms despite first-line therapy",
    "active-cancer-treatment": "receiving active cancer treatment (MME thresholds become advice)",
    "palliative-care": "receiving palliative or end-of-life care (MME thresholds become advice)",
    "opioid-tolerant": "opioid-tolerant (at least 60 MME/day for a week or longer)",
}


class UsageError(Exception):
    """Bad command line: exit 3."""


class InputError(Exception):
    """Input that cannot be checked: exit 4."""


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on a usage error; 2 means REJECT here, so usage errors exit 3."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"{name} must be a whole number, not {value!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="regimen-guard", description="Check low back pain medication regimens.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    serve = commands.add_parser("serve", help="run the gRPC server")
    serve.add_argument(
        "--host",
        default="localhost",
        help="address to bind (default localhost: 127.0.0.1 and ::1 only; [::] or 0.0.0.0 for "
        "every interface)",
    )
    serve.add_argument(
        "--port", type=int, default=None, help="port (env REGIMENGUARD_PORT, default 50051)"
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="server processes on the port (default: one per core)",
    )
    serve.add_argument("--threads", type=int, default=16, help="threads per process (default 16)")
    serve.add_argument(
        "--max-concurrent-rpcs",
        type=int,
        default=256,
        help="calls in flight per process before RESOURCE_EXHAUSTED",
    )
    add_connection_limits(serve)
    serve.add_argument(
        "--grace", type=float, default=10.0, help="seconds in-flight calls get at shutdown"
    )
    serve.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        metavar="PORT",
        help="serve Prometheus metrics at http://HOST:PORT/metrics; with several workers, "
        "worker k on PORT+k (env REGIMENGUARD_METRICS_PORT; default off)",
    )
    serve.add_argument(
        "--http-port",
        type=int,
        default=None,
        metavar="N",
        help="also serve HTTP on port N: CDS Hooks (/cds-services), the JSON API (/v1) and the "
        "prescribing page (/); same TLS, access log and metrics (env REGIMENGUARD_HTTP_PORT)",
    )
    _add_config(serve)
    serve.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    serve.add_argument(
        "--log-phi",
        action="store_true",
        help="also log drug names and patient fields in the access log (protected health "
        "information: off by default)",
    )
    tls = serve.add_argument_group("TLS (plaintext when none of these is given)")
    tls.add_argument("--tls-cert", type=Path, metavar="FILE", help="server certificate chain, PEM")
    tls.add_argument("--tls-key", type=Path, metavar="FILE", help="its private key, PEM")
    tls.add_argument(
        "--tls-client-ca",
        type=Path,
        metavar="FILE",
        help="CA certificates, PEM: require client certificates issued by them (mutual TLS)",
    )

    check = commands.add_parser(
        "check",
        help="check a regimen: a CheckRegimenRequest in protobuf JSON, or --med sigs",
        description="Check a regimen given as a JSON file (- for stdin) or as --med order texts.",
    )
    check.add_argument(
        "file", nargs="?", help="CheckRegimenRequest JSON file, or - for standard input"
    )
    check.add_argument(
        "--med",
        action="append",
        default=[],
        metavar="TEXT",
        help='an order as written, e.g. "start cyclobenzaprine 5 mg tid prn for 14 days" (repeatable)',
    )
    check.add_argument(
        "--as-of", help="date the check is made for, YYYY-MM-DD (overrides the file)"
    )
    check.add_argument("--request-id", help="correlation id echoed in the answer")
    check.add_argument(
        "--ack",
        action="append",
        default=[],
        metavar="RULE_ID:REASON",
        help="acknowledge a finding (repeatable)",
    )
    patient = check.add_argument_group("patient (overrides the file)")
    patient.add_argument("--age", type=int, help="age in years")
    patient.add_argument(
        "--pain-weeks", type=int, help="how long the back pain has lasted, in weeks"
    )
    for flag, help_text in PATIENT_FLAGS.items():
        patient.add_argument(f"--{flag}", action="store_true", help=help_text)
    check.add_argument("--json", action="store_true", help="print the response as protobuf JSON")
    check.add_argument(
        "--explain",
        action="store_true",
        help="add RxNorm codes, classes and the interactions that fired",
    )
    check.add_argument(
        "--graph",
        type=Path,
        metavar="FILE.dot",
        help="write the regimen's interaction subgraph (Graphviz DOT)",
    )
    _add_backend(check)

    check_batch = commands.add_parser(
        "check-batch", help="check many regimens: one CheckRegimenRequest JSON per line"
    )
    check_batch.add_argument("file", help="JSON-lines file, or - for standard input")
    check_batch.add_argument(
        "--out", type=Path, help="write the answers here (default standard output)"
    )
    check_batch.add_argument(
        "--stream",
        action="store_true",
        help="use the CheckRegimens stream instead of CheckRegimenBatch",
    )
    _add_backend(check_batch)

    drugs = commands.add_parser("drugs", help="list the knowledge base's drugs")
    drugs.add_argument("query", nargs="?", default="", help="filter by name, brand, RxCUI or class")
    drugs.add_argument("--json", action="store_true")
    _add_backend(drugs)

    rules = commands.add_parser("rules", help="list the rules")
    rules.add_argument("--json", action="store_true")
    _add_backend(rules)

    add_review_command(commands)
    return parser


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=os.environ.get("REGIMENGUARD_CONFIG") or None,
        help="site configuration TOML (env REGIMENGUARD_CONFIG)",
    )


def _add_backend(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--target", default=DEFAULT_TARGET, help=f"server host:port (default {DEFAULT_TARGET})"
    )
    where.add_argument("--local", action="store_true", help="check in-process, without a server")
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait for the server"
    )
    _add_config(parser)
    tls = parser.add_argument_group("TLS (plaintext when none of these is given)")
    tls.add_argument(
        "--tls-ca",
        type=Path,
        metavar="FILE",
        help="CA certificates, PEM, to verify the server with (default with other TLS flags: "
        "the system's)",
    )
    tls.add_argument(
        "--tls-cert", type=Path, metavar="FILE", help="client certificate chain, PEM (mutual TLS)"
    )
    tls.add_argument("--tls-key", type=Path, metavar="FILE", help="its private key, PEM")


def _client_credentials(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """Channel credentials when any TLS flag is given, else None (plaintext)."""
    from regimenguard.server.tls import TLSConfigError, channel_credentials

    ca, cert, key = args.tls_ca, args.tls_cert, args.tls_key
    if ca is None and cert is None and key is None:
        return None
    if args.local:
        raise UsageError("--tls-* flags are for a server (--target), not --local")
    if (cert is None) != (key is None):
        raise UsageError("--tls-cert and --tls-key go together")
    try:
        return channel_credentials(ca, cert, key)
    except TLSConfigError as error:
        raise UsageError(str(error)) from None


def backend_for(args: argparse.Namespace) -> Backend:
    from regimenguard.client.backend import LocalBackend, RemoteBackend

    credentials = _client_credentials(args)
    if args.local:
        return LocalBackend(args.config)
    return RemoteBackend(args.target, timeout=args.timeout, credentials=credentials)


def read_request(source: str) -> pb.CheckRegimenRequest:
    from google.protobuf import json_format

    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot read {source}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise InputError(f"{source} is not UTF-8 text (byte {error.start})") from None
    try:
        return json_format.Parse(text, pb.CheckRegimenRequest())
    except json_format.ParseError as error:
        # protobuf's message can run over several lines ("Available Fields: ..."): keep the first
        first_line = str(error).splitlines()[0] if str(error) else "unreadable"
        raise InputError(
            f"{source} is not a CheckRegimenRequest in protobuf JSON: {first_line}"
        ) from None


def to_json(message, indent: int | None = 2) -> str:  # type: ignore[no-untyped-def]
    """Protobuf JSON with every field, zeros and empty lists included, so jq sees them all."""
    from google.protobuf import json_format

    return json_format.MessageToJson(
        message,
        indent=indent,
        preserving_proto_field_name=False,
        always_print_fields_with_no_presence=True,
    )


def _print_json(message) -> None:  # type: ignore[no-untyped-def]
    print(to_json(message))


def build_request(args: argparse.Namespace) -> tuple[pb.CheckRegimenRequest, list[SigReading]]:
    """The request from the file and/or flags, and how each --med was read."""
    from regimenguard.client.orders import (
        OrderTextError,
        order_to_proto,
        parse_acknowledgement,
        read_orders,
    )

    if args.file and args.med:
        raise UsageError("give a JSON file or --med orders, not both")
    if not args.file and not args.med:
        raise UsageError("give a JSON file (- for standard input) or at least one --med")
    request = read_request(args.file) if args.file else pb.CheckRegimenRequest()
    readings: list[SigReading] = []
    try:
        if args.med:
            readings = read_orders(args.med)
            request.medications.extend(order_to_proto(reading.order) for reading in readings)
        request.acknowledgements.extend(parse_acknowledgement(text) for text in args.ack)
    except OrderTextError as error:
        raise InputError(str(error)) from None
    if args.as_of:
        request.as_of = args.as_of
    if args.request_id:
        request.request_id = args.request_id
    if args.age is not None:
        request.patient.age_years = args.age
    if args.pain_weeks is not None:
        request.patient.pain_duration_weeks = args.pain_weeks
    for flag in PATIENT_FLAGS:
        if getattr(args, flag.replace("-", "_")):
            field = "refractory_symptoms" if flag == "refractory" else flag.replace("-", "_")
            setattr(request.patient, field, True)
    return request, readings


def cmd_check(args: argparse.Namespace) -> int:
    from regimenguard.client.graph_dot import regimen_dot
    from regimenguard.client.orders import name_typed_orders
    from regimenguard.client.report import colour_wanted, render, render_readings, terminal_width

    request, readings = build_request(args)
    backend = backend_for(args)
    try:
        response = backend.check(request)
    except CallFailed as failed:
        typed = name_typed_orders(failed.violations, args.med) if args.med else None
        if not typed:
            raise
        raise InputError("; ".join(typed)) from None
    finally:
        backend.close()
    if args.graph:
        try:
            args.graph.write_text(regimen_dot(response), encoding="utf-8")
        except OSError as error:
            raise InputError(f"cannot write {args.graph}: {error.strerror}") from None
    if args.json:
        _print_json(response)
    else:
        width = terminal_width(sys.stdout)
        colour = colour_wanted(sys.stdout)
        if readings:
            sys.stdout.write(render_readings(readings, width=width) + "\n")
        sys.stdout.write(
            render(response, colour=colour, explain=args.explain, width=width, request=request)
        )
    return VERDICT_EXIT.get(response.verdict, EXIT_INPUT)


def cmd_check_batch(args: argparse.Namespace) -> int:
    """Exit status: the worst verdict (0/1/2), or 4 when any line could not be checked.

    The input is streamed: read a line at a time, answered in order, written as it comes.
    """
    from regimenguard.client import batch

    try:
        source = (
            getattr(sys.stdin, "buffer", sys.stdin) if args.file == "-" else open(args.file, "rb")  # noqa: SIM115
        )
    except OSError as error:
        raise InputError(f"cannot read {args.file}: {error.strerror}") from None
    try:
        out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115
    except OSError as error:
        source.close()
        raise InputError(f"cannot write {args.out}: {error.strerror}") from None
    watcher = batch.progress_stream()
    lines = batch.Source.of(source)
    progress = batch.Progress(watcher, lines) if watcher is not None else None
    backend = backend_for(args)
    try:
        summary = batch.run(
            backend,
            lines,
            out,
            stream=args.stream,
            progress=progress,
            line_of=lambda answer: to_json(answer, indent=None),
        )
    finally:
        backend.close()
        if source is not sys.stdin and source is not getattr(sys.stdin, "buffer", None):
            source.close()
        if out is not sys.stdout:
            out.close()
        else:
            out.flush()
    sys.stderr.write(summary.render())
    if summary.failed or "UNSPECIFIED" in summary.verdicts_seen:
        return EXIT_INPUT
    seen = summary.verdicts_seen
    return EXIT_REJECT if "REJECT" in seen else EXIT_REVIEW if "REVIEW" in seen else EXIT_ACCEPT


def cmd_drugs(args: argparse.Namespace) -> int:
    backend = backend_for(args)
    try:
        response = backend.list_drugs(args.query)
    finally:
        backend.close()
    if args.json:
        _print_json(response)
        return 0
    for drug in response.drugs:
        brands = f" ({', '.join(drug.brands)})" if drug.brands else ""
        confirm = " *confirm*" if drug.needs_confirmation else ""
        print(
            f"{drug.name}{brands}  rxcui {drug.rxcui or '-'}  [{', '.join(drug.classes)}]{confirm}"
        )
    if not response.drugs:
        print(f"no drug matches {args.query!r}")
    elif any(drug.needs_confirmation for drug in response.drugs):
        print(
            "\n*confirm*: a class or dose limit of this drug is marked needs_confirmation in "
            "the knowledge base (not yet verified against its source)"
        )
    return 0


def cmd_rules(args: argparse.Namespace) -> int:
    backend = backend_for(args)
    try:
        response = backend.list_rules()
    finally:
        backend.close()
    if args.json:
        _print_json(response)
        return 0
    for rule in response.rules:
        severity = pb.Severity.Name(rule.default_severity).removeprefix("SEVERITY_")
        print(f"{rule.rule_id:<34} {severity:<8} {rule.ncpdp_reason_code:<3} {rule.summary}")
        print(f"{'':<34} {rule.guideline_section}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    # Start-up builds about a million objects that live as long as the process: a garbage
    # collection during it frees nothing and costs tens of milliseconds. serve() freezes what it
    # built and turns collection back on before it reports SERVING.
    gc.disable()
    try:
        return _serve(args)
    finally:
        gc.enable()


def _serve(args: argparse.Namespace) -> int:
    from regimenguard.server.app import ServerOptions
    from regimenguard.server.limits import connection_limits
    from regimenguard.server.log_setup import configure_logging
    from regimenguard.server.main import ServeConfig, StartupError, serve
    from regimenguard.server.tls import ServerTLS, TLSConfigError

    port = args.port if args.port is not None else _env_int("REGIMENGUARD_PORT", 50051)
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    if not 0 <= port <= 65535 or workers < 1 or args.threads < 1:
        raise UsageError("--port must be 0-65535, --workers and --threads at least 1")
    metrics_port = args.metrics_port
    if metrics_port is None and os.environ.get("REGIMENGUARD_METRICS_PORT", "").strip():
        metrics_port = _env_int("REGIMENGUARD_METRICS_PORT", 0)
    if metrics_port is not None:
        last = metrics_port + workers - 1 if metrics_port else 0
        if not 0 <= metrics_port <= last <= 65535:
            raise UsageError("--metrics-port (plus one per further worker) must be 0-65535")
        if port and metrics_port <= port <= last:
            raise UsageError("--metrics-port must not overlap --port")
    http_port = args.http_port
    if http_port is None and os.environ.get("REGIMENGUARD_HTTP_PORT", "").strip():
        http_port = _env_int("REGIMENGUARD_HTTP_PORT", 0)
    if http_port is not None:
        if not 0 <= http_port <= 65535:
            raise UsageError("--http-port must be 0-65535")
        if http_port and http_port == port:
            raise UsageError("--http-port must differ from --port")
        if http_port == 0 and workers > 1:
            raise UsageError("several workers share one HTTP port: give --http-port, not 0")
    if (args.tls_cert is None) != (args.tls_key is None):
        raise UsageError("--tls-cert and --tls-key go together")
    if args.tls_client_ca is not None and args.tls_cert is None:
        raise UsageError("--tls-client-ca needs --tls-cert and --tls-key")
    # From here on every line on standard error is JSON (regimenguard.server.log_setup): start-up,
    # shutdown, errors and the access log.
    configure_logging(None, args.log_level)
    startup = logging.getLogger("regimenguard")
    tls = None
    if args.tls_cert is not None:
        try:
            tls = ServerTLS.load(args.tls_cert, args.tls_key, args.tls_client_ca)
        except TLSConfigError as error:
            startup.error("regimen-guard: cannot start: %s", error)
            return EXIT_STARTUP
    options = ServerOptions(
        host=args.host,
        port=port,
        threads=args.threads,
        max_concurrent_rpcs=args.max_concurrent_rpcs,
        **connection_limits(args),
        tls=tls,
        log_phi=args.log_phi,
        access_log_stream=sys.stderr,  # buffered, written out every 0.5 s and at shutdown
    )
    try:
        return serve(
            ServeConfig(
                options=options,
                workers=workers,
                grace_seconds=args.grace,
                config_path=args.config,
                metrics_port=metrics_port,
                http_port=http_port,
            )
        )
    except StartupError as error:
        startup.error("regimen-guard: cannot start: %s", error)
        return EXIT_STARTUP


COMMANDS = {
    "check": cmd_check,
    "check-batch": cmd_check_batch,
    "drugs": cmd_drugs,
    "rules": cmd_rules,
    "serve": cmd_serve,
    "review": run_review,
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except BrokenPipeError:
        # The reader went away (`regimen-guard rules | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except UsageError as error:
        print(f"regimen-guard: {error} (see regimen-guard --help)", file=sys.stderr)
        return EXIT_USAGE
    except InputError as error:
        print(f"regimen-guard: {error}", file=sys.stderr)
        return EXIT_INPUT
    except CallFailed as failed:
        hint = ""
        if failed.code in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):
            hint = (
                " (no server answered: start one with `make run`, or check in-process with --local)"
            )
        print(f"regimen-guard: {failed}{hint}", file=sys.stderr)
        return EXIT_INPUT if failed.is_input_error else EXIT_CONNECTION
    except StartupError as error:  # --local could not load its knowledge base or configuration
        print(f"regimen-guard: cannot start: {error}", file=sys.stderr)
        return EXIT_STARTUP
    except KeyboardInterrupt:
        return 130


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
