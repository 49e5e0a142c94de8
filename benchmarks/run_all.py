"""Run the whole benchmark suite on CPU and regenerate BENCHMARKS.md.

    python benchmarks/run_all.py --default-run runs/default [--random-run DIR | --no-random] [--texts DIR]
    python benchmarks/run_all.py --quick      # a few minutes (tiny config)

Steps, each its own script and command (see BENCHMARKS.md): quality.py, training_cost.py,
speed.py, scaling.py, bench_onnx.py (full suite only), then report.py. The full suite reuses a
trained default transformer (``--default-run``, default runs/default); the random-weights variant is trained here
(~20 min) unless ``--random-run`` names one, or runs/bench/default-random-init holds one from a
previous run (it is then reused, and BENCHMARKS.md says so).

Budget: the 30 minutes asked for assume that training (as long as the default's, at most
~20 min on an idle 2-core machine) plus ~10 minutes for everything else; on a shared, busy
machine everything takes longer (see the notes in BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, ROOT, command_line, machine  # noqa: E402

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny transformer, smaller sizes: a few minutes")
    parser.add_argument("--default-run", default="runs/default", help="trained default transformer run")
    parser.add_argument("--random-run", help="trained random-weights run (default: runs/bench/default-random-init "
                                             "when it exists, else trained by quality.py)")
    parser.add_argument("--no-random", action="store_true", help="skip the random-weights variant (saves ~20 min)")
    parser.add_argument("--tfidf-run", help="trained TF-IDF run for the quality step (else trained there)")
    parser.add_argument("--embed-run", help="trained embed_lr run for the quality step (else trained there)")
    parser.add_argument("--texts", help="your copies of the data/real_dev articles: adds the real-text rows")
    args = parser.parse_args(argv)
    notes = []
    if args.quick:
        steps = {"quality": ["--quick"], "training_cost": ["--quick"], "speed": ["--quick"], "scaling": ["--quick"]}
        # bench_onnx exports the e5 architecture (~2 min): part of the full suite only
    else:
        if not (ROOT / args.default_run / "diploml.json").is_file():
            print(f"error: no trained default transformer in {args.default_run}: train it first "
                  "(python scripts/train.py --config configs/default.yaml, ~20 min) or run with --quick",
                  file=sys.stderr)
            return 2
        random_run = args.random_run
        if not (random_run or args.no_random) and (ROOT / "runs/bench/default-random-init/diploml.json").is_file():
            random_run = "runs/bench/default-random-init"
            notes.append(f"- The random-weights transformer was reused from `{random_run}` (trained earlier).")
        quality = ["--default-run", args.default_run]
        for flag, value in (("--tfidf-run", args.tfidf_run), ("--embed-run", args.embed_run), ("--texts", args.texts)):
            if value:
                quality += [flag, value]
        if args.no_random:
            quality.append("--no-random")
        elif random_run:
            quality += ["--random-run", random_run]
        steps = {"quality": quality, "training_cost": ["--default-run", args.default_run],
                 "speed": ["--default-run", args.default_run], "scaling": [], "bench_onnx": []}
    minutes = {}
    start = time.perf_counter()
    for name, extra in steps.items():
        t0 = time.perf_counter()
        cmd = [sys.executable, str(HERE / f"{name}.py"), *extra]
        print("$", " ".join(cmd[1:]), flush=True)
        if subprocess.run(cmd, cwd=ROOT).returncode != 0:
            print(f"error: {name} failed", file=sys.stderr)
            return 1
        minutes[name] = round((time.perf_counter() - t0) / 60, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "run_all.json").write_text(json.dumps(
        {"command": command_line(), "quick": args.quick, "date": machine()["date"],
         "total_minutes": round((time.perf_counter() - start) / 60, 1),
         "step_minutes": minutes, "notes": notes}, indent=2), "utf-8")
    return subprocess.run([sys.executable, str(HERE / "report.py")], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
