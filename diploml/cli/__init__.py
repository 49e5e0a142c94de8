"""The ``diploml`` command: train, evaluate, predict, export, label, validate, encoder, serve.

Each sub-command lives in its own module with ``register(subparsers)``; heavy imports (torch,
transformers) happen inside the command, so ``diploml --help`` answers at once.
``scripts/train.py``, ``scripts/evaluate.py`` and ``scripts/predict.py`` call ``script_main``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ["train", "evaluate", "predict", "export", "label", "validate", "encoder", "serve"]


class Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keeps the hand-written layout of descriptions, shows each option's default, drops RST backticks."""

    def _fill_text(self, text, width, indent):
        return super()._fill_text(text.replace("``", ""), width, indent)

    def _get_help_string(self, action):
        # "(default: None)" and "(default: False)" say nothing a reader needs
        if action.default in (None, False) or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    from diploml._version import __version__

    parser = argparse.ArgumentParser(prog="diploml", description=__doc__.split("\n\n")[0], formatter_class=Formatter)
    parser.add_argument("--version", action="version", version=f"diploml {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"diploml.cli.{name}").register(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


def script_main(command: str, argv=None) -> int:
    """``scripts/<command>.py ARGS`` is ``diploml <command> ARGS`` (with the script's name in messages)."""
    args = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog=f"{command}.py", formatter_class=Formatter)
    sub = parser.add_subparsers(dest="command")
    importlib.import_module(f"diploml.cli.{command}").register(sub, prog=f"{command}.py")
    ns = parser.parse_args([command, *args])
    return int(ns.func(ns) or 0)


def error(message: str) -> int:
    """Print ``error: message`` on stderr; exit status 2 (bad input, config or file)."""
    print(f"error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
