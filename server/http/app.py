"""The HTTP door as one ASGI application (Starlette): CDS Hooks, the JSON API, the page, health.

``create_http_app(service, ...)`` builds it around the same ``RegimenService`` as the gRPC door
(one verdict for one regimen, whichever door it came through). Every request except health
checks and static files is a call of the service layer (``door="http"``), so the access log
(no PHI unless ``--log-phi``) and the metrics see it like a gRPC call; bodies over
``max_body_bytes`` are refused with 413 before they are read; an unexpected error is a 500 with
a fixed message (never the exception's text).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from regimenguard.fhir.regimen import RegimenMapper
from regimenguard.regimen.headlines import check_headlines
from regimenguard.regimen.service import RegimenService
from regimenguard.server.convert import today_utc
from regimenguard.server.http import cds_hooks, json_api
from regimenguard.server.http.auth import CdsSecurity, TokenVerifier
from regimenguard.server.http.cards import CardMaker
from regimenguard.server.http.errors import code_name
from regimenguard.server.http.metrics import HttpMetrics
from regimenguard.server.http.openapi import openapi_document
from regimenguard.server.http.presentation import load_presentation
from regimenguard.server.servicer import RegimenCheckerServicer

log = logging.getLogger("regimenguard.http")
STATIC_DIR = Path(__file__).parent / "static"
MAX_BODY_BYTES = 16 * 1024 * 1024  # as the gRPC door's message limit
UNOBSERVED = ("/healthz", "/static/", "/favicon.ico")


class Health:
    """SERVING once started, NOT_SERVING while shutting down (as the gRPC health service)."""

    def __init__(self) -> None:
        self.serving = False


def create_http_app(
    service: RegimenService,
    *,
    security: CdsSecurity | None = None,
    metrics: HttpMetrics | None = None,
    today: Callable[[], dt.date] = today_utc,
    health: Health | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    fetch_jwks: Callable[[str], dict] | None = None,  # type: ignore[type-arg]
) -> Starlette:
    """Raises DataError when the presentation data (headlines, card sources) is incomplete."""
    knowledge = service.knowledge
    rule_ids = [spec.rule_id for spec in knowledge.rules]
    check_headlines(rule_ids)
    security = security or CdsSecurity()
    metrics = metrics or HttpMetrics()
    health = health or Health()
    presentation = load_presentation(rule_ids)
    ctx = cds_hooks.CdsContext(
        service=service,
        mapper=RegimenMapper(knowledge.resolver),
        cards=CardMaker(knowledge, presentation),
        verifier=TokenVerifier(security, fetch_jwks=fetch_jwks),
        metrics=metrics,
        today=today,
        base_url=security.base_url,
        override_codes=frozenset(r.code for r in presentation.override_reasons),
    )
    servicer = RegimenCheckerServicer(service, today=today)
    document = openapi_document()

    async def healthz(request: Request) -> Response:
        status = "SERVING" if health.serving else "NOT_SERVING"
        return JSONResponse({"status": status}, status_code=200 if health.serving else 503)

    async def openapi(request: Request) -> Response:
        return JSONResponse(document)

    async def page(request: Request) -> Response:
        return Response(
            (STATIC_DIR / "index.html").read_bytes(), media_type="text/html; charset=utf-8"
        )

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/", page, methods=["GET"]),
        Route("/v1/openapi.json", openapi, methods=["GET"]),
        *json_api.routes(servicer),
        *cds_hooks.routes(ctx),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(
        _ObservedCalls, service=service, metrics=metrics, max_body_bytes=max_body_bytes
    )
    app.state.health = health
    app.state.cds = ctx
    return app


class _ObservedCalls:
    """Opens a service-layer call per request (access log, metrics), limits body size, and
    turns an unexpected exception into a fixed 500."""

    def __init__(
        self, app: ASGIApp, *, service: RegimenService, metrics: HttpMetrics, max_body_bytes: int
    ) -> None:
        self.app = app
        self.service = service
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path.startswith(UNOBSERVED) or path == "/":
            await self.app(scope, receive, send)
            return
        route = _route_template(scope)
        call = self.service.start_call(f"{scope['method']} {route}", door="http")
        client = scope.get("client")
        call.peer = f"ipv4:{client[0]}:{client[1]}" if client else ""
        scope.setdefault("state", {})["call"] = call
        status = {"code": 500}

        async def observed_send(message) -> None:  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        length = dict(scope.get("headers") or []).get(b"content-length")
        try:
            if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
                response = JSONResponse(
                    {"code": 8, "message": f"the body is over {self.max_body_bytes} bytes"},
                    status_code=413,
                )
                await response(scope, receive, observed_send)
                return
            await self.app(scope, _limited(receive, self.max_body_bytes), observed_send)
        except _BodyTooLarge:
            response = JSONResponse(
                {"code": 8, "message": "the body is too large"}, status_code=413
            )
            await response(scope, receive, observed_send)
        except Exception:
            log.exception("internal error answering an HTTP request")
            response = JSONResponse({"code": 13, "message": "internal error"}, status_code=500)
            await response(scope, receive, observed_send)
        finally:
            self.metrics.request(route, status["code"])
            self.service.end_call(call, code_name(status["code"]))


class _BodyTooLarge(Exception):
    pass


def _limited(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped():  # type: ignore[no-untyped-def]
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _BodyTooLarge
        return message

    return wrapped


def _route_template(scope: Scope) -> str:
    """A low-cardinality label for the path: the CDS service id kept, nothing else variable."""
    path: str = scope["path"]
    if path.startswith("/cds-services/"):
        rest = path[len("/cds-services/") :]
        known = next((sid for sid in cds_hooks.SERVICES if rest in (sid, f"{sid}/feedback")), None)
        if known is None:
            return "/cds-services/{unknown}"
        return f"/cds-services/{rest}"
    for rule in json_api.http_rules():
        if path == rule.path:
            return path
    return path if path in ("/cds-services", "/v1/openapi.json") else "(other)"
