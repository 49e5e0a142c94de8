"""Articles per second: single-process ``predict_file`` vs Ray Data with 1 and 2 actors, same run, same cores.

    python benchmarks/bench_ray.py [--n 240] [--cores 2] [--backend onnx-int8] [--out benchmarks/results/ray.json]

Model: ``--model RUN`` if given, else ``runs/default`` if trained, else configs/default.yaml
(multilingual-e5-small) trained here for one step on 16 articles (same compute per article as the
trained model; its labels mean nothing); exported to ONNX int8 here if needed.
Articles: the first ``--n`` bundled corpus texts, as a JSONL file. Every engine gets the same
``--cores``: the single process runs the model on that many threads; Ray runs 1 actor with that many
threads, then ``--cores`` actors with one thread each. Times are end to end (model load, read,
label, write); the local Ray start is timed apart. Same labels: share of identical topics
between each Ray output and the single-process one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def pick_run(model: str | None, work: Path, cli) -> tuple[Path, str]:
    if model:
        return Path(model), model
    default = ROOT / "runs" / "default"
    if (default / "diploml.json").is_file():
        return default, "runs/default (trained, configs/default.yaml)"
    run = work / "run"
    assert cli(["train", "--config", str(ROOT / "configs" / "default.yaml"), "--output-dir", str(run),
                "data.limit=16", "training.epochs=1", "training.eval_strategy=no"]) == 0
    return run, "configs/default.yaml (multilingual-e5-small), 1 training step on 16 articles (runs/default absent)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=240, help="articles")
    ap.add_argument("--cores", type=int, default=2, help="CPU cores every engine gets")
    ap.add_argument("--backend", default="onnx-int8", choices=["torch", "onnx", "onnx-int8"])
    ap.add_argument("--batch-size", type=int, default=16, help="articles per forward pass (all engines)")
    ap.add_argument("--model", help="run directory (default: runs/default, else a quick default-config run)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "ray.json"))
    args = ap.parse_args(argv)

    import diploml
    from benchmarks.common import machine
    from diploml.cli import main as cli
    from diploml.data.io import write_corpus_sample
    from diploml.predict import predict_file
    from diploml.ray import init_ray, predict_with_ray, read_records

    work = Path(tempfile.mkdtemp(prefix="bench_ray_"))
    try:
        run, what = pick_run(args.model, work, cli)
        if args.backend != "torch" and not (Path(run) / "onnx" / "model.int8.onnx").is_file():
            assert cli(["export", "--model", str(run), "--format", "onnx", "--int8"]) == 0
        src = write_corpus_sample(work / "in.jsonl", args.n, id_format="b{:06d}")
        rows = []

        t = time.perf_counter()
        model = diploml.load(run, backend=args.backend, threads=args.cores) if args.backend != "torch" \
            else diploml.load(run)
        if args.backend == "torch":
            import torch

            torch.set_num_threads(args.cores)
        counts = predict_file(model, src, work / "single.jsonl", batch_size=args.batch_size, progress=False)
        single_s = time.perf_counter() - t
        assert counts["ok"] == args.n, counts
        single = {r["id"]: r["topic"]["label"] for r in map(json.loads, (work / "single.jsonl").open())}
        rows.append({"engine": "single process", "actors": 0, "threads_per_worker": args.cores,
                     "seconds": round(single_s, 2), "articles_per_s": round(args.n / single_s, 3),
                     "load_average_1m_after": round(os.getloadavg()[0], 2)})
        del model

        t = time.perf_counter()
        init_ray(num_cpus=args.cores)
        ray_start_s = time.perf_counter() - t
        for actors, cpus in ((1, args.cores), (args.cores, 1)):
            out = work / f"ray_{actors}"
            t = time.perf_counter()
            s = predict_with_ray(run, src, out, num_actors=actors, cpus_per_actor=cpus, backend=args.backend,
                                 model_batch_size=args.batch_size, batch_size=args.batch_size * 2)
            secs = time.perf_counter() - t
            assert s["rows"] == args.n and s["error"] == 0, s
            got = {r["id"]: r["topic"]["label"] for r in read_records(out)}
            same = sum(got[k] == v for k, v in single.items()) / len(single)
            rows.append({"engine": "ray", "actors": actors, "threads_per_worker": cpus, "seconds": round(secs, 2),
                         "articles_per_s": round(args.n / secs, 3), "same_topic": round(same, 4),
                         "load_average_1m_after": round(os.getloadavg()[0], 2)})
        for r in rows:
            r["vs_single"] = round(r["articles_per_s"] / rows[0]["articles_per_s"], 2)
        import ray

        result = {"benchmark": "ray", "command": "python benchmarks/bench_ray.py " + " ".join(argv or sys.argv[1:]),
                  "model": what, "backend": args.backend, "articles": args.n, "cores": args.cores,
                  "batch_size": args.batch_size, "ray": ray.__version__, "ray_start_s": round(ray_start_s, 2),
                  "rows": rows, "machine": machine()}
        ray.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False), "utf-8")
    print(f"model: {what}; backend {args.backend}; {args.n} articles; {args.cores} cores; "
          f"local Ray start {result['ray_start_s']} s (not counted)")
    print("| engine | actors x threads | seconds | articles/s | vs single process | same topic as single | load avg |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        shape = f"{r['actors'] or '1 process'} x {r['threads_per_worker']}"
        print(f"| {r['engine']} | {shape} | {r['seconds']} | {r['articles_per_s']} | {r['vs_single']}x | "
              f"{r.get('same_topic', '-')} | {r['load_average_1m_after']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
