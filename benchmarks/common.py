"""Shared helpers of the benchmark scripts: machine description, memory, timing, isolated runs, JSON."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
QUICK_TRANSFORMER = "configs/tiny.yaml"
DEFAULT_TRANSFORMER = "configs/default.yaml"
# The measures issue #11 sets goals on: (task, metric).
GOAL_METRICS = [("topic", "macro_f1"), ("regions", "micro_f1"), ("regions", "macro_f1"), ("sectors", "micro_f1"),
                ("sectors", "macro_f1"), ("partners", "micro_f1")]

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far.

    Linux's VmHWM restarts at exec, unlike ``ru_maxrss``, which a spawned child inherits from
    its parent's memory at fork time (a large parent would hide a small child's peak).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def machine() -> dict:
    """What the numbers were measured on."""
    import psutil

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "platform": platform.platform(),
            "python": platform.python_version(), "cpu": cpu, "cpu_cores": os.cpu_count(),
            "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            # other jobs on a shared machine slow every number down: record how busy it was
            "load_average_1m": round(os.getloadavg()[0], 2),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")}
    try:
        import sklearn
        import torch

        info.update(torch=torch.__version__, torch_threads=torch.get_num_threads(), sklearn=sklearn.__version__,
                    cuda=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)
    except ImportError:
        pass
    try:
        info["git_commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                            text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return info


def isolated(fn, *args, **kwargs):
    """Run ``fn`` in a fresh spawned process, so that its peak memory is its own; returns its result."""
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(fn, args, kwargs)


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def write_result(name: str, data: dict, command: str) -> Path:
    """``benchmarks/results/<name>.json`` with the machine and the command that reproduces it."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"benchmark": name, "command": command, "machine": machine(), **data}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False), "utf-8")
    print(f"wrote {path.relative_to(ROOT)}")
    return path


def command_line() -> str:
    return "python " + " ".join([str(Path(sys.argv[0]).resolve().relative_to(ROOT))] + sys.argv[1:])


def load_corpus(limit: int | None = None):
    """The default config's train/dev/test splits of the bundled corpus, and the seed articles."""
    from diploml.config import RunConfig
    from diploml.data import load_articles, load_splits

    cfg = RunConfig()
    tasks = cfg.tasks.resolve()
    splits = load_splits(cfg.data, tasks)
    if limit:
        splits = {k: v[:limit] for k, v in splits.items()}
    splits["seeds"] = load_articles(ROOT / "seeds", tasks)
    return splits


def train_model(config: str, overrides: list[str], output_dir: Path) -> tuple[Path, float]:
    """Train a config into ``output_dir`` (like scripts/train.py); returns the directory and wall seconds."""
    from diploml.config import load_config
    from diploml.train import train_run

    cfg = load_config(ROOT / config, overrides)
    with Timer() as t:
        train_run(cfg, output_dir=output_dir, overwrite=True)
    return output_dir, t.seconds


def ensure_run(run: str, config: str, overrides: list[str]) -> str:
    """``run`` if it holds a saved model, else train ``config`` there first (cheap models only)."""
    if not (ROOT / run / "diploml.json").is_file():
        print(f"{run}: no model there, training {config} {' '.join(overrides)}")
        isolated(train_model, config, overrides, ROOT / run)
    return run
