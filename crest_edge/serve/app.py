"""create_app(guard, settings): the ASGI app (Starlette). The routes, the auth and CORS gates, the
access log and metrics around every request, and one-line JSON errors for everything refused."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..verdict import unsafe_index
from . import page, shapes
from .batcher import QueueFull
from .bodies import RequestError, error_response, read_json
from .metrics import CONTENT_TYPE, Metrics
from .policy import EngineFailed
from .service import NotReady, Service
from .settings import Settings

access_log = logging.getLogger("crest_edge.serve.access")
log = logging.getLogger(__name__)

OPEN_PATHS = ("/", "/health")  # no API key needed: the page holds no data, probes need no secret


def create_app(guard, settings: Settings | None = None) -> Starlette:
    """An ASGI app serving `guard` (a Guard, which the caller keeps and closes), or a callable that
    returns one: it is then loaded in the background after startup, /health answers 503 until it
    is ready, and the app closes it at shutdown. Threshold and long-text policy are the Guard's."""
    settings = (settings or Settings()).check()
    metrics = Metrics()
    service = Service(guard, settings, metrics)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        service.start()
        try:
            yield
        finally:
            await asyncio.to_thread(service.close)

    routes = [
        Route("/v1/moderations", _endpoint(service, _moderations), methods=["POST"]),
        Route("/classify", _endpoint(service, _classify), methods=["POST"]),
        Route("/predict", _endpoint(service, _predict, tei=True), methods=["POST"]),
        Route("/health", _answer(lambda: _health(service)), methods=["GET"]),
        Route("/info", _answer(lambda: JSONResponse(service.info())), methods=["GET"]),
        Route("/metrics", _answer(lambda: Response(metrics.render(), media_type=CONTENT_TYPE)), methods=["GET"]),
        Route("/", _answer(lambda: _page(service)), methods=["GET"]),
    ]
    middleware = []
    if settings.cors:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type"],
            )
        )
    middleware.append(Middleware(_Gate, settings=settings, metrics=metrics))
    handlers = {HTTPException: _http_error, Exception: _internal_error}
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=handlers, lifespan=lifespan)
    app.state.service = service
    return app


# -- endpoints -------------------------------------------------------------------------------------


def _moderations(service, body):
    texts = shapes.moderation_texts(body, service.settings.max_inputs)
    return texts, False, lambda outcomes: shapes.moderation_response(outcomes, service.model_name, service.guard.labels)


def _classify(service, body):
    texts = shapes.classify_texts(body, service.settings.max_inputs)
    return texts, False, lambda outcomes: shapes.classify_response(outcomes, service.model_name, service.guard.info)


def _predict(service, body):
    texts, batch, raw = shapes.predict_request(body, service.settings.max_inputs)
    return texts, raw, lambda outcomes: shapes.predict_response(outcomes, batch, raw, service.guard.labels)


def _endpoint(service: Service, shape, tei: bool = False):
    async def handle(request: Request) -> Response:
        try:
            texts, want_logits, render = shape(service, await read_json(request, service.settings.max_body_bytes))
            outcomes = await service.classify(texts, want_logits)
        except RequestError as exc:
            return error_response(exc.status, exc.message, param=exc.param, tei=tei)
        except QueueFull as exc:
            return error_response(503, f"busy, retry shortly: {exc}", tei=tei, headers={"Retry-After": "1"})
        except NotReady as exc:
            return error_response(503, f"not ready: {exc}", tei=tei, headers={"Retry-After": "1"})
        except EngineFailed as exc:
            return error_response(503, str(exc), tei=tei)
        request.state.texts = texts
        positive = service.guard.labels[unsafe_index(service.guard.labels)]
        request.state.flagged = sum(o.verdict.label == positive for o in outcomes)
        return JSONResponse(render(outcomes))

    return handle


def _answer(respond):
    """An async endpoint: Starlette would run a plain function on its thread pool (a thread hop,
    and 200 ms for the first call while the pool starts)."""

    async def endpoint(request: Request) -> Response:
        return respond()

    return endpoint


def _health(service: Service) -> Response:
    if service.state == "ready":
        return JSONResponse({"status": "ready"})
    body = {"status": service.state, **({"error": service.load_error} if service.load_error else {})}
    return JSONResponse(body, 503, headers={"Retry-After": "1"})


def _page(service: Service) -> Response:
    text, policy = page.render(service.model_name, bool(service.settings.api_key))
    return HTMLResponse(
        text,
        headers={"Content-Security-Policy": policy, "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


async def _http_error(request: Request, exc: HTTPException) -> Response:
    message = {
        404: f"no such endpoint: {request.url.path}",
        405: f"{request.method} is not allowed on {request.url.path}",
    }.get(exc.status_code, str(exc.detail))
    return error_response(exc.status_code, message, tei=request.url.path == "/predict")


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.error("internal error on %s: %s: %s", request.url.path, type(exc).__name__, exc)
    return error_response(500, "internal error (see the server log)")


# -- the gate around every request: API key, metrics, access log -----------------------------------


class _Gate:
    def __init__(self, app, settings: Settings, metrics: Metrics):
        self.app, self.settings, self.metrics = app, settings, metrics
        self._key = settings.api_key.encode() if settings.api_key else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, path, status = time.perf_counter(), scope["path"], [500]

        async def sending(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        if self._key and path not in OPEN_PATHS and not self._authorized(scope):
            response = error_response(
                401,
                "missing or wrong API key: send 'Authorization: Bearer KEY'",
                tei=path == "/predict",
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, sending)
        else:
            await self.app(scope, receive, sending)
        elapsed = time.perf_counter() - started
        self.metrics.observe_request(path, status[0], elapsed)
        self._log(scope, status[0], elapsed)

    def _authorized(self, scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.partition(b" ")
                return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self._key)
        return False

    def _log(self, scope, status: int, elapsed: float) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        state = scope.get("state", {})
        texts = state.get("texts")
        client = scope.get("client") or ("-", 0)
        line = f'{client[0]} "{scope["method"]} {scope["path"]}" {status} {elapsed * 1000:.1f}ms'  # never the query
        if texts is not None:
            line += f" inputs={len(texts)} flagged={state.get('flagged', 0)}"
            if self.settings.log_texts:
                line += " texts=" + json.dumps(texts, ensure_ascii=False)
        access_log.info(line)
