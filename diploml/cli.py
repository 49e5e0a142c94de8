"""The ``diploml`` command. Each feature module registers its own sub-command."""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules exposing ``register(subparsers)``; each sub-parser sets ``func(args) -> int``.
COMMAND_MODULES = [
    "diploml.encoders.cli",
    "diploml.baselines.rules_cli",
    "diploml.export_cli",
    "diploml.predict_cli",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="diploml", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name and (name == e.name or name.startswith(e.name + ".")):  # optional feature absent
                continue
            raise
        module.register(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
