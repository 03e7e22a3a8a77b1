"""Subcommands with their own modules. Each module exposes `add_parser(subparsers)`, which
registers its parser with `set_defaults(handler=fn)`; `fn(args) -> exit code`."""
import importlib

MODULES = ("crest_edge.parity.command", "crest_edge.benchmark.command", "crest_edge.quickstart")


def add_extra_commands(sub) -> None:
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name or name.startswith(f"{exc.name}."):
                continue  # that command is not part of this build yet
            raise
        module.add_parser(sub)
