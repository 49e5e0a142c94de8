"""Training cost on CPU: wall time, examples per second and peak memory of the default config.

    python benchmarks/training_cost.py [--max-steps 8] [--default-run runs/default] [--quick]

A full default run takes up to ~20 minutes on 2 cores, so by default the config trains for
``--max-steps`` optimizer steps in a fresh process (``--max-steps 0``: the whole run) and the
full run's time is extrapolated from the measured seconds per step. A finished run directory
(``--default-run``) adds the time its own training recorded (metrics_train.json). With a CUDA
GPU present, configs/gpu.yaml is measured the same way. ``--quick``: configs/tiny.yaml.
Writes benchmarks/results/training_cost.json.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    DEFAULT_TRANSFORMER,
    QUICK_TRANSFORMER,
    ROOT,
    command_line,
    isolated,
    peak_rss_mb,
    write_result,
)


def train_once(config: str, overrides: list[str]) -> dict:
    """Runs in a fresh process: train, and report wall time, Trainer throughput and peak memory."""
    import logging

    from diploml.config import load_config
    from diploml.train import train_run

    logging.basicConfig(level=logging.WARNING)
    cfg = load_config(ROOT / config, overrides)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        run = train_run(cfg, output_dir=Path(tmp) / "run")
        wall = time.perf_counter() - start
        metrics = json.loads((run / "metrics_train.json").read_text())
    return {"config": config, "overrides": overrides, "wall_seconds": round(wall, 1),
            "train_runtime_s": round(float(metrics["train_runtime"]), 1), "global_step": metrics["global_step"],
            "frozen_cache_s": float(metrics.get("frozen_cache_runtime", 0.0)),
            "train_samples_per_second": round(float(metrics["train_samples_per_second"]), 3),
            "batch_size": cfg.training.batch_size, "max_windows_per_article": cfg.training.train_windows,
            "peak_rss_mb": round(peak_rss_mb())}


def full_run_steps(config: str, overrides: list[str]) -> tuple[int, int, float]:
    """(train articles, optimizer steps of a full run, epochs) for ``config`` with ``overrides``."""
    from diploml.config import load_config
    from diploml.data import load_splits

    cfg = load_config(ROOT / config, overrides)
    n = len(load_splits(cfg.data, cfg.tasks.resolve())["train"])
    per_epoch = math.ceil(n / (cfg.training.batch_size * cfg.training.gradient_accumulation_steps))
    return n, math.ceil(per_epoch * cfg.training.epochs), cfg.training.epochs


def measure(config: str, max_steps: int, extra: list[str]) -> dict:
    overrides = list(extra)
    if max_steps > 0:
        overrides += [f"training.max_steps={max_steps}", "training.eval_strategy=no"]
    r = isolated(train_once, config, overrides)
    n, steps, epochs = full_run_steps(config, extra)
    r["full_run"] = {"train_articles": n, "steps": steps, "epochs": epochs}
    if max_steps > 0:
        steps_s = r["train_runtime_s"] - r["frozen_cache_s"]
        per_step = steps_s / r["global_step"]
        # setup (encoder load, vocabulary trimming, tokenisation, the frozen-layer cache, save) is paid once
        setup = r["wall_seconds"] - steps_s
        r["seconds_per_step"] = round(per_step, 2)
        r["full_run"]["estimated_minutes"] = round((setup + per_step * steps) / 60, 1)
        r["full_run"]["note"] = "extrapolated from the capped run; dev evaluation per epoch not included"
    return r


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="configs/tiny.yaml on the bundled corpus, 1 epoch")
    parser.add_argument("--max-steps", type=int, default=8, help="optimizer steps to time; 0: the whole run")
    parser.add_argument("--default-run", default="runs/default", help="finished default run (optional)")
    args = parser.parse_args(argv)
    import torch

    out = {"quick": args.quick}
    if args.quick:
        out["cpu"] = measure(QUICK_TRANSFORMER, 0, ["data.path=bundled:diplomatic_news", "training.epochs=1",
                                                    "training.use_cpu=true"])
    else:
        out["cpu"] = measure(DEFAULT_TRANSFORMER, args.max_steps, ["training.use_cpu=true"])
        saved = ROOT / args.default_run / "metrics_train.json"
        if saved.is_file():
            m = json.loads(saved.read_text())
            out["recorded_full_run"] = {"run_dir": args.default_run,
                                        "train_runtime_minutes": round(float(m["train_runtime"]) / 60, 1),
                                        "train_samples_per_second": round(float(m["train_samples_per_second"]), 3),
                                        "global_step": m.get("global_step")}
    print("cpu:", {k: v for k, v in out["cpu"].items() if k != "overrides"})
    if torch.cuda.is_available() and not args.quick:
        out["gpu"] = measure("configs/gpu.yaml", args.max_steps, [])
        out["gpu"]["device"] = torch.cuda.get_device_name(0)
    write_result("training_cost", out, command_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
