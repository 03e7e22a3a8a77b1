"""serve(settings): listen, load the model in the background, serve until SIGTERM, drain, return."""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
import time

from ..errors import CrestEdgeError
from ..extras import require
from .policy import GUARD_ON_ERROR
from .settings import Settings

log = logging.getLogger(__name__)

LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},  # ours has no query strings
        "crest_edge.serve": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


def serve(settings: Settings) -> None:
    """Run the service in this thread until SIGTERM or SIGINT; returns after every in-flight request
    was answered (SIGINT then raises KeyboardInterrupt, as Python does). Raises CrestEdgeError when
    the address cannot be bound or the model cannot be loaded."""
    settings.check()
    uvicorn = require("uvicorn", "crest-edge serve")
    from ..guard import Guard
    from .app import create_app

    def load():
        started = time.perf_counter()
        guard = Guard.load(
            settings.model,
            engine=settings.engine,
            device=settings.device,
            threads=settings.threads,
            threshold=settings.threshold,
            long_text=settings.long_text,
            batch_size=settings.max_batch_rows,
            on_error=GUARD_ON_ERROR[settings.on_error],
        )
        log.info(
            "ready: %s, %s, loaded in %.1f s",
            app.state.service.model_name,
            guard.info.describe(),
            time.perf_counter() - started,
        )
        return guard

    app = create_app(load, settings)
    sock = _bind(settings.host, settings.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    config = uvicorn.Config(
        app,
        log_config=LOG_CONFIG,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=settings.shutdown_timeout_s,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    service = app.state.service
    service.on_failed = lambda error: setattr(server, "should_exit", True)
    log.info("listening on http://%s:%d (loading the model)", shown, port)
    with _sigterm_returns():
        server.run(sockets=[sock])
    if service.state == "failed":
        raise CrestEdgeError(f"cannot load the model: {service.load_error}")
    log.info("stopped: every request was answered")


def _bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise CrestEdgeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


@contextlib.contextmanager
def _sigterm_returns():
    """uvicorn drains on SIGTERM, then re-raises it under the handler it found, which by default
    kills the process with status -15; a handler that does nothing makes a drained exit status 0."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
