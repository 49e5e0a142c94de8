"""Training on a CUDA GPU: full runs, timed, with peak GPU memory, and the scores each run reaches.

    python benchmarks/gpu_training.py [--config configs/default.yaml] [--config configs/gpu.yaml] \
        [--seeds 42 43 44] [--set KEY=VALUE ...] [--budget-minutes M] [--keep DIR] [--append] [--quick]

Each (config, seed) is trained in full in a fresh process (so that its peak memory is its own), as
``scripts/train.py`` would, and is then scored on the dev split (where its thresholds were tuned), the
test split and the seeds. Several seeds of one config show how far one retraining moves the scores
(mean and standard deviation per config). ``--set`` overrides go to every config (e.g. a local encoder
path). ``--budget-minutes``: no run starts once that many minutes have passed. ``--keep DIR``: run
directories are kept under DIR (else deleted). ``--append``: add these runs to the ones already in the
results file (e.g. one config with one seed, then another with several). ``--quick``: configs/tiny.yaml
for one epoch on the CPU, to check the script where there is no GPU. Writes benchmarks/results/gpu_training.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    GOAL_METRICS,
    QUICK_TRANSFORMER,
    RESULTS,
    ROOT,
    command_line,
    isolated,
    load_corpus,
    peak_rss_mb,
    write_result,
)


def scores(metrics) -> dict:
    """The reported measures of one ``Metrics`` (missing tasks left out) and the mean macro F1 over tasks."""
    out = {f"{t}.{m}": round(float(metrics.tasks[t][m]), 4) for t, m in GOAL_METRICS if t in metrics.tasks}
    out["mean_macro_f1"] = round(float(metrics.macro_f1), 4)
    return out


def train_and_score(config: str, overrides: list[str], run_dir: str) -> dict:
    """Runs in a fresh process: train ``config`` into ``run_dir``, time it, score it on dev, test and seeds."""
    import logging

    import torch

    import diploml
    from diploml.config import load_config
    from diploml.evaluation.evaluate import evaluate
    from diploml.evaluation.metrics import Metrics
    from diploml.train import train_run

    logging.basicConfig(level=logging.WARNING)
    cfg = load_config(ROOT / config, overrides)
    cuda = torch.cuda.is_available() and not cfg.training.use_cpu
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    run = train_run(cfg, output_dir=Path(run_dir), overwrite=True)
    wall = time.perf_counter() - start
    train = json.loads((run / "metrics_train.json").read_text())
    out = {"config": config, "overrides": overrides, "seed": cfg.training.seed,
           "device": torch.cuda.get_device_name(0) if cuda else "cpu",
           "precision": cfg.training.precision, "wall_seconds": round(wall, 1),
           "train_runtime_s": round(float(train["train_runtime"]), 1), "global_step": train["global_step"],
           "epochs_run": train.get("epoch"),
           "train_samples_per_second": round(float(train["train_samples_per_second"]), 3),
           "peak_gpu_memory_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None,
           "peak_rss_mb": round(peak_rss_mb())}
    dev = Metrics.from_dict(json.loads((run / "metrics_dev.json").read_text()))
    out["scores"] = {"dev": scores(dev)} if dev else {}
    model = diploml.load(run, device="cuda") if cuda else diploml.load(run)
    splits = load_corpus()
    for name in ("test", "seeds"):
        t = time.perf_counter()
        ev = evaluate(model, splits[name], batch_size=32, evidence=False)
        out["scores"][name] = scores(ev.metrics)
        out.setdefault("eval_seconds", {})[name] = round(time.perf_counter() - t, 1)
    return out


def summarise(runs: list[dict]) -> dict:
    """Per config: mean and standard deviation over seeds of the wall time and of every score."""
    by_config: dict[str, list[dict]] = {}
    for r in runs:
        by_config.setdefault(r["config"], []).append(r)
    out = {}
    for config, rs in by_config.items():
        s = {"seed_values": [r["seed"] for r in rs], "wall_minutes_mean": round(statistics.mean(r["wall_seconds"]
                                                                                           for r in rs) / 60, 2)}
        for split in ("dev", "test", "seeds"):
            keys = [k for k in rs[0]["scores"].get(split, {}) if all(k in r["scores"].get(split, {}) for r in rs)]
            vals = {k: [r["scores"][split][k] for r in rs] for k in keys}
            s[split] = {k: {"mean": round(statistics.mean(v), 4),
                            "std": round(statistics.stdev(v), 4) if len(v) > 1 else None,
                            "range": round(max(v) - min(v), 4)} for k, v in vals.items()}
        out[config] = s
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", action="append", help="config to train (repeatable; default: the default "
                        "config and configs/gpu.yaml)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42], help="training.seed values, one run each")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override for every config")
    parser.add_argument("--budget-minutes", type=float, help="start no run after this many minutes")
    parser.add_argument("--keep", help="keep the run directories under this folder")
    parser.add_argument("--append", action="store_true", help="keep the runs already in the results file")
    parser.add_argument("--quick", action="store_true", help="configs/tiny.yaml, 1 epoch, CPU")
    args = parser.parse_args(argv)
    import torch

    if args.quick:
        configs = [QUICK_TRANSFORMER]
        extra = ["data.path=bundled:diplomatic_news", "training.epochs=1", "training.use_cpu=true"]
    else:
        if not torch.cuda.is_available():
            parser.error("no CUDA GPU here (use --quick to check the script on the CPU)")
        configs = args.config or ["configs/default.yaml", "configs/gpu.yaml"]
        extra = []
    extra += args.set
    keep = Path(args.keep) if args.keep else None

    def save(runs, skipped):
        write_result("gpu_training", {"quick": args.quick, "runs": runs, "skipped_for_budget": skipped,
                                      "summary": summarise(runs)}, command_line())

    tmp = Path(tempfile.mkdtemp(prefix="diploml-gpu-bench-"))
    start, runs, skipped = time.perf_counter(), [], []
    previous = RESULTS / "gpu_training.json"
    if args.append and previous.is_file():
        old = json.loads(previous.read_text("utf-8"))
        if old.get("quick") == args.quick:
            runs, skipped = old["runs"], old.get("skipped_for_budget", [])
    try:
        for seed in args.seeds:
            for config in configs:
                label = f"{Path(config).stem}-seed{seed}"
                if args.budget_minutes and (time.perf_counter() - start) / 60 > args.budget_minutes:
                    skipped.append(label)
                    continue
                run_dir = (keep or tmp) / label
                r = isolated(train_and_score, config, extra + [f"training.seed={seed}"], str(run_dir))
                r["run_dir"] = str(run_dir) if keep else None
                r["command"] = command_line()  # with --append, the runs of one file come from several commands
                runs.append(r)
                save(runs, skipped)  # after every run: a later one that is killed loses nothing
                print(f"{label}: {r['wall_seconds']} s, test mean macro F1 {r['scores']['test']['mean_macro_f1']}",
                      flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    save(runs, skipped)
    return 0


if __name__ == "__main__":
    sys.exit(main())
