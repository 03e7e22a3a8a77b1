"""Subcommands with their own modules. Each exposes `add_parser(subparsers)`, which registers its
parser with `set_defaults(handler=fn)`; `fn(args) -> exit code`."""
from . import quickstart
from .benchmark import command as bench_command
from .parity import command as parity_command


def add_extra_commands(sub) -> None:
    for module in (parity_command, bench_command, quickstart):
        module.add_parser(sub)
