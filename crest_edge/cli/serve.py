"""`crest-edge serve`: parse the options, hand them to crest_edge.serve.serve()."""

from __future__ import annotations

import argparse
import dataclasses
import os

from ..serve import Settings
from ..serve.policy import ON_ERROR
from .argtypes import non_negative, positive_int
from .classify import model_options, model_path, verdict_options

EPILOG = """endpoints:
  POST /v1/moderations  OpenAI moderation shape (point an OpenAI client's base_url at http://HOST:PORT/v1)
  POST /classify        crest-edge's own: label, score, probs, tokens, windows per input
  POST /predict         text-embeddings-inference's /predict shape
  GET  /health /info /metrics, and / (a page to try texts)
Binding to anything but loopback needs --api-key (or CREST_EDGE_API_KEY), or --insecure.
SIGTERM answers every request in flight, then exits 0."""

# flag -> (Settings field it sets, type, metavar, help); each default is the field's
LIMITS = {
    "--max-batch-tokens": ("max_batch_tokens", positive_int, "N", "padded tokens (rows x longest) per engine call"),
    "--max-batch-size": ("max_batch_rows", positive_int, "N", "sequences per engine call"),
    "--max-wait-ms": ("max_wait_ms", non_negative, "W", "how long the oldest text may wait for others to join it"),
    "--queue": ("queue", positive_int, "N", "texts waiting at most; beyond it 503 + Retry-After"),
    "--max-inputs": ("max_inputs", positive_int, "N", "texts per request"),
    "--max-body-bytes": ("max_body_bytes", positive_int, "N", "request body size"),
    "--shutdown-timeout": ("shutdown_timeout_s", non_negative, "S", "on SIGTERM, how long requests in flight get"),
}


def _port(value: str) -> int:
    if not value.isdigit() or int(value) > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number 0-65535: {value}")
    return int(value)


def add_parser(sub) -> None:
    defaults = Settings()
    p = sub.add_parser(
        "serve",
        help="serve the classifier over HTTP (OpenAI moderation compatible)",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    model_options(p)
    verdict_options(p)
    p.add_argument("--host", default=defaults.host, help="address to listen on (default %(default)s)")
    p.add_argument("--port", type=_port, default=defaults.port, help="0 for any free port (default %(default)s)")
    p.add_argument(
        "--api-key",
        default=os.environ.get("CREST_EDGE_API_KEY") or None,
        metavar="KEY",
        help="require 'Authorization: Bearer KEY' (default: $CREST_EDGE_API_KEY)",
    )
    p.add_argument("--insecure", action="store_true", help="allow a non-loopback --host without an API key")
    p.add_argument(
        "--on-error",
        choices=ON_ERROR,
        default=defaults.on_error,
        help="when the engine fails: flag the text (block), pass it (allow), or answer 503 (error)",
    )
    for flag, (field, kind, metavar, text) in LIMITS.items():
        default = getattr(defaults, field)
        p.add_argument(
            flag, dest=field, type=kind, default=default, metavar=metavar, help=f"{text} (default {default})"
        )
    p.add_argument(
        "--cors",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="allow browser calls from ORIGIN (repeatable); no CORS headers otherwise",
    )
    p.add_argument("--log-texts", action="store_true", help="put request texts in the access log (off: never)")
    p.add_argument("--model-name", help="the 'model' field of responses (default: from the artifact)")
    p.set_defaults(handler=handle)


def handle(args) -> int:
    from ..serve import require_extra

    require_extra()
    from ..serve import serve

    fields = {field.name for field in dataclasses.fields(Settings)}
    settings = Settings(**{**{k: v for k, v in vars(args).items() if k in fields}, "cors": tuple(args.cors)})
    settings.check()  # every problem before the demo notice
    serve(dataclasses.replace(settings, model=str(model_path(args))))
    return 0
