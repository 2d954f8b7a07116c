"""The ``gaitkiosk`` command line.

Every sub-command lives in its own module under ``gaitkiosk/commands/`` and
exposes ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args, ctx) -> int``. Modules import their heavy dependencies inside
``run`` so that ``gaitkiosk --help`` stays fast on a Pi.

Conventions shared by every command (README, "Command line"):
``--help``; ``--config FILE``; ``--data-dir DIR``; ``--json`` where the output
is data; on failure one clear line on stderr and a non-zero exit, the
traceback only with ``--debug``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from gaitkiosk import __version__
from gaitkiosk.errors import KioskError

# Sub-commands in the order --help lists them. Add a module, then its name here.
COMMANDS: list[str] = [
    "sessions",
    "db",
    "analyze",
    "simulate",
    "devices",
    "record",
    "demo",
    "calibrate",
    "run",
    "patients",
    "program",
    "report",
    "users",
    "server",
    "sync",
    "import",
    "firmware",
    "selftest",
    "update",
    "release",
]

# A command whose name is a Python keyword lives in a module with a trailing underscore.
MODULE_OF = {"import": "import_"}

EXIT_ERROR = 1
EXIT_USAGE = 2


@dataclass
class Context:
    """What every command is handed: the validated config and the output policy."""

    config: dict[str, Any]
    data_dir: Path
    json: bool = False
    debug: bool = False
    out: TextIO = field(default_factory=lambda: sys.stdout)

    def emit(self, data: Any, text: str | None = None) -> None:
        """Print ``data`` as JSON with --json, else ``text`` (or a plain rendering)."""
        if self.json:
            json.dump(data, self.out, indent=2, sort_keys=False, default=str)
            self.out.write("\n")
        else:
            self.out.write((text if text is not None else str(data)) + "\n")
        self.out.flush()


class CommandLineError(Exception):
    """argparse refused the command line (an unknown option, a value outside its range)."""

    def __init__(self, prog: str, message: str):
        super().__init__(f"{prog}: error: {message} (`{prog} --help` lists the options)")


class Parser(argparse.ArgumentParser):
    """argparse with the CLI's error convention: one line on stderr and exit 2, no usage dump.

    A bad option value names the option and what it allows (``gaitkiosk.checks``); the
    usage is one ``--help`` away. Raised rather than exited, so ``main()`` returns the code.
    """

    def error(self, message: str):
        raise CommandLineError(self.prog, message)


def _common_options() -> argparse.ArgumentParser:
    common = Parser(add_help=False)
    group = common.add_argument_group("common options")
    group.add_argument("--config", metavar="FILE", help="TOML config file (default: /etc/gaitkiosk/config.toml if present, else built-in defaults)")
    group.add_argument("--data-dir", metavar="DIR", help="where the database and recordings live (overrides the config)")
    group.add_argument("--json", action="store_true", help="print machine-readable JSON where the output is data")
    group.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    return common


ALL = "*"


def build_parser(command: str | None = ALL) -> argparse.ArgumentParser:
    """The parser of ``command`` only (the one on the command line), or of every command (ALL).

    A command line needs one command's module and options; ``gaitkiosk --help`` (or an unknown
    command) needs every command's help line but no options. Importing and adding all twenty was
    about a third of a ``--help``'s start (issue 16, docs/performance.md "Command start-up").
    """
    parser = Parser(
        prog="gaitkiosk",
        description="Gait- and balance-training kiosk: sensors, analysis, drills.",
    )
    parser.add_argument("--version", action="version", version=f"gaitkiosk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = _common_options()
    for name in [command] if command in COMMANDS else COMMANDS:
        module = importlib.import_module(f"gaitkiosk.commands.{MODULE_OF.get(name, name)}")
        p = sub.add_parser(name, help=module.HELP, description=module.HELP, parents=[common])
        if command in (ALL, name):
            module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(next((a for a in argv if not a.startswith("-")), None))
    try:
        args = parser.parse_args(argv)
    except CommandLineError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    if not getattr(args, "_module", None):
        parser.print_help()
        return EXIT_USAGE
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        from gaitkiosk.config import data_dir, load_config

        config = load_config(args.config)
        ctx = Context(config=config, data_dir=data_dir(config, args.data_dir), json=args.json, debug=args.debug)
        return int(args._module.run(args, ctx) or 0)
    except KeyboardInterrupt:
        print("gaitkiosk: interrupted", file=sys.stderr)
        return 130
    except (KioskError, OSError) as exc:
        if args.debug:
            raise
        print(f"gaitkiosk {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except sqlite3.Error as exc:
        # Met while reading (damage found by SQLite, a disk that filled): the store's words for it.
        if args.debug:
            raise
        from store.db import database_path, explain

        where = database_path(ctx.data_dir) if "ctx" in locals() else "the database"
        print(f"gaitkiosk {args.command}: error: {explain(exc, where)}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - the one place that turns bugs into a clear line
        if args.debug:
            raise
        print(
            f"gaitkiosk {args.command}: internal error: {type(exc).__name__}: {exc} (run again with --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_ERROR


if __name__ == "__main__":
    raise SystemExit(main())
