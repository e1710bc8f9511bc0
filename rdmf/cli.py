"""The ``rdmf`` command line: one sub-command per job, each defined in ``rdmf/commands/<name>.py``.

Every command module exposes ``register(subparsers)``, which adds its parser and sets
``func(args) -> int``. Errors a user can fix (bad input, missing files) are printed as one line
naming the file and field, with exit code 2; no traceback from deep inside torch.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

# module name in rdmf.commands, in the order they appear in --help
COMMANDS = ("reproduce", "data", "train", "evaluate", "evaluate_submission", "predict",
            "experiments")


class UserError(Exception):
    """An error the user can fix; the CLI prints it without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rdmf",
        description="Reaction-Diffusion Multimodal Fusion: moment retrieval and highlight detection.")
    parser.add_argument("--version", action="version", version=f"rdmf {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"rdmf.commands.{name}")
        except ModuleNotFoundError as err:
            if err.name == f"rdmf.commands.{name}":
                continue  # command not built yet
            raise
        module.register(subparsers)
    return parser


def _version() -> str:
    from rdmf import __version__
    return __version__


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print a warning as one line (``rdmf: warning: ...``), without the source line that Python
    prints by default."""
    print(f"rdmf: warning: {message}", file=file or sys.stderr)


def main(argv: list[str] | None = None) -> int:
    warnings.showwarning = show_warning
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (UserError, ValueError, FileNotFoundError, KeyError) as err:
        if getattr(args, "debug", False):
            raise
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"rdmf {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rdmf {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
