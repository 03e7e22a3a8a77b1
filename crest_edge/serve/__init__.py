"""`crest-edge serve`: a local moderation service (OpenAI moderation, TEI /predict and crest-edge's
own shape) over one Guard, micro-batched and fail-closed.

    from crest_edge.serve import Settings, create_app, serve
    app = create_app(guard, Settings(max_wait_ms=2))     # an ASGI app, for any ASGI server
    serve(Settings(model="crest-q4_k_m.gguf"))            # uvicorn on 127.0.0.1:8000 until SIGTERM

Starlette, uvicorn and prometheus_client come with `pip install 'crest-edge[serve]'`; importing
this package (and so `crest-edge serve --help`) needs none of them.
"""

from .settings import Settings

__all__ = ["Settings", "create_app", "serve", "require_extra"]


def require_extra() -> None:
    """Raise MissingExtraError with the pip line when a package the service needs is missing."""
    from ..extras import require
    from ..registry import SERVE_MODULES

    for module in SERVE_MODULES:
        require(module, "crest-edge serve")


def __getattr__(name):
    if name in ("create_app", "serve"):
        require_extra()
        from . import app, server

        return {"create_app": app.create_app, "serve": server.serve}[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
