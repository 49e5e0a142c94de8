"""Train a model from a YAML config and write a self-describing run directory.

    diploml train --config configs/tiny.yaml [--output-dir DIR] [--resume | --overwrite] [section.key=value ...]
"""

from __future__ import annotations

import logging
import sys


def register(sub, prog: str | None = None) -> None:
    from diploml.cli import Formatter

    p = sub.add_parser("train", help="train a model from a config", description=__doc__, formatter_class=Formatter,
                       **({"prog": prog} if prog else {}))
    p.add_argument("--config", required=True, help="run config YAML (configs/*.yaml)")
    p.add_argument("--output-dir", help="run directory (default: training.output_dir of the config)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--resume", action="store_true", help="continue from the last checkpoint in the run directory")
    group.add_argument("--overwrite", action="store_true", help="replace a run directory that already holds a run")
    p.add_argument("overrides", nargs="*", help="section.key=value, e.g. training.epochs=1")
    p.set_defaults(func=run)


def run(args) -> int:
    from diploml.cli import error
    from diploml.config import ConfigError, load_config
    from diploml.data import DataError

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    _quiet_libraries()
    try:
        cfg = load_config(args.config, args.overrides)
    except ConfigError as e:
        return error(e)
    from diploml.models.transformer.trainer import TrainingInterrupted
    from diploml.train import RunDirInUse, train_run

    try:
        run_dir = train_run(cfg, output_dir=args.output_dir, resume=args.resume, overwrite=args.overwrite)
    except (ConfigError, DataError, RunDirInUse, FileNotFoundError) as e:
        return error(e)
    except TrainingInterrupted as e:
        print(f"stopped: {e}", file=sys.stderr)
        return 130
    print(f"run directory: {run_dir}")
    return 0


def _quiet_libraries() -> None:
    # The Trainer's own chatter (raw log dicts) is replaced by our progress bar and train_log.jsonl.
    for name in ("transformers", "accelerate", "torch.distributed"):
        logging.getLogger(name).setLevel(logging.WARNING)
