"""Train a model from a YAML config and write a self-describing run directory.

    python scripts/train.py --config configs/tiny.yaml [--output-dir DIR] [--resume] [section.key=value ...]
"""

from __future__ import annotations

import argparse
import logging
import sys

from diploml.config import ConfigError, load_config
from diploml.data import DataError
from diploml.pipeline import train_run
from diploml.training import TrainingInterrupted


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="run config YAML")
    parser.add_argument("--output-dir", help="run directory (default: training.output_dir of the config)")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint in the run dir")
    parser.add_argument("overrides", nargs="*", help="section.key=value, e.g. training.epochs=1")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        cfg = load_config(args.config, args.overrides)
        run_dir = train_run(cfg, output_dir=args.output_dir, resume=args.resume)
    except (ConfigError, DataError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except TrainingInterrupted as e:
        print(f"stopped: {e}", file=sys.stderr)
        return 130
    print(f"run directory: {run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
