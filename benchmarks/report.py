"""Write BENCHMARKS.md (tables, plots, machine, commands) from the JSON files in benchmarks/results/.

    python benchmarks/report.py

Only reports what the JSON files hold: a benchmark that was not run is listed as missing.
benchmarks/results/notes.md, when present, is copied in verbatim (context for the latest numbers).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DEFAULT_TRANSFORMER, RESULTS, ROOT  # noqa: E402

from diploml.evaluation.reports import _plt, save_figure  # noqa: E402

NOTES = RESULTS / "notes.md"
RAY = RESULTS / "ray.md"
TASK_COLS = [("topic", "accuracy"), ("topic", "macro_f1"), ("regions", "micro_f1"), ("regions", "macro_f1"),
             ("sectors", "micro_f1"), ("sectors", "macro_f1"), ("partners", "micro_f1"), ("partners", "macro_f1")]
# The issue's targets on real text (#11).
REAL_TARGETS = {("topic", "macro_f1"): 0.90, ("partners", "micro_f1"): 0.93, ("regions", "micro_f1"): 0.95,
                ("sectors", "micro_f1"): 0.88}


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text("utf-8")) if path.is_file() else None


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _command(d: dict) -> str:
    return f"Command: `{d['command']}` ({d['machine']['date']}, load average {d['machine']['load_average_1m']})"


def quality_section(q: dict) -> list[str]:
    lines = ["## Quality", "", _command(q), ""]
    lines += ["| model | where it came from |", "| --- | --- |"]
    for name, src in q["models"].items():
        if src.get("trained_here"):
            how = f"trained by the benchmark: `{src['config']}` {' '.join(src['overrides'])} " \
                  f"({src['train_seconds'] / 60:.1f} min)"
        elif src.get("run_dir"):
            how = f"existing run `{src['run_dir']}`"
            if src.get("overrides"):
                how += " " + " ".join(src["overrides"])
        else:
            how = src.get("note", "")
        lines.append(f"| {name} | {how} |")
    titles = {"test": "test split (event-grouped)", "seeds": "the five seed articles",
              "real_dev": "real-text dev set (published articles, never trained on)",
              "real_dev_unseen": "real-text dev set, only articles whose event no train or dev article tells"}
    for data in ("test", "seeds", "real_dev", "real_dev_unseen"):
        s = q["summaries"].get(data)
        if not s:
            continue
        lines += ["", f"### {titles[data]}: {q['n_articles'][data]} articles", "",
                  "| model | " + " | ".join(f"{t} {k.replace('_f1', ' F1').replace('accuracy', 'acc.')}"
                                          for t, k in TASK_COLS) + " | mean macro F1 |",
                  "|" + " --- |" * (len(TASK_COLS) + 2)]
        for name, m in s["models"].items():
            cells = [f"{m['tasks'][t][k]:.3f}" if t in m["tasks"] and k in m["tasks"][t] else "-"
                     for t, k in TASK_COLS]
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {m['mean_macro_f1']:.3f} |")
        lines += ["", f"![{data}](benchmarks/results/quality/comparison-{data}.png)", "",
                  f"Per-label F1: [comparison-{data}.md](benchmarks/results/quality/comparison-{data}.md); "
                  f"misclassified articles with evidence: `benchmarks/results/quality/<model>/errors-{data}.jsonl`."]
    for data, verdicts in q["transformer_beats_baselines"].items():
        if not verdicts:
            continue
        lines += ["", f"### Does the transformer beat the baselines? ({titles.get(data, data)})", ""]
        for v in verdicts:
            metric = v.get("metric", "macro_f1")
            value = v.get("value", v.get("macro_f1"))
            others = ", ".join(f"{o} {x:.3f}" for o, x in v["others"].items())
            # differences below the printed precision are ties, not wins
            gaps = [value - x for x in v["others"].values()] or [0.0]
            word = "yes" if min(gaps) >= 0.0005 else "**tie**" if min(gaps) > -0.0005 else "**no**"
            target = REAL_TARGETS.get((v["task"], metric)) if data == "real_dev" else None
            goal = f" (target {target:.2f}: {'met' if value >= target else f'missed by {target - value:.3f}'})" \
                if target else ""
            lines.append(f"- {v['task']} {metric.replace('_f1', ' F1')}: {word}: {v['candidate']} {value:.3f} "
                         f"vs {others}{goal}")
    if "default-random-init" not in q["models"]:
        lines += ["", "The same transformer from random weights was not measured in this run."]
    if q.get("quick"):
        lines += ["", "Quick mode: the transformer is configs/tiny.yaml (a random 2-layer, 32-dimension BERT), "
                  "a pipeline check, not the model we ship; its scores say nothing about the default config."]
    return lines


def training_section(t: dict) -> list[str]:
    c = t["cpu"]
    lines = ["## Training cost", "", _command(t), "",
             "| config | device | steps timed | wall time (s) | Trainer time (s) | articles/s | s/step "
             "| peak RSS (MB) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]

    def row(r, device):
        return (f"| `{r['config']}` | {device} | {r['global_step']} | {r['wall_seconds']} | {r['train_runtime_s']} | "
                f"{r['train_samples_per_second']} | {r.get('seconds_per_step', '-')} | {r['peak_rss_mb']} |")

    lines.append(row(c, "CPU"))
    if "gpu" in t:
        lines.append(row(t["gpu"], t["gpu"].get("device", "GPU")))
    f = c["full_run"]
    lines += ["", f"A full run: {f['train_articles']} training articles, {f['epochs']} epochs, {f['steps']} steps "
              f"of {c['batch_size']} articles (training reads at most {c['max_windows_per_article']} window(s) "
              "per article)."]
    if c.get("frozen_cache_s"):
        lines.append(f"The Trainer time includes {c['frozen_cache_s']} s of frozen-layer cache (`model.cache_frozen`: "
                     "the frozen layers run once per training window), paid once per run, not per step.")
    if "estimated_minutes" in f:
        lines.append(f"Estimated from the timed steps: **{f['estimated_minutes']} min** ({f['note']}).")
    if "recorded_full_run" in t:
        r = t["recorded_full_run"]
        lines.append(f"Recorded by the finished run `{r['run_dir']}`: {r['train_runtime_minutes']} min of training, "
                     f"{r['train_samples_per_second']} articles/s, {r['global_step']} steps.")
    lines.append("Articles per second count articles (each up to the window cap), not windows or tokens.")
    return lines


def plot_speed(s: dict, path: Path) -> None:
    plt = _plt()
    names = list(s["models"])
    bss = list(next(iter(s["models"].values()))["batch"])
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    width = 0.8 / len(bss)
    low = min(b["articles_per_s"] for m in s["models"].values() for b in m["batch"].values())
    for i, bs in enumerate(bss):
        vals = [s["models"][n]["batch"][bs]["articles_per_s"] for n in names]
        xs = [x + (i - (len(bss) - 1) / 2) * width for x in range(len(names))]
        ax.bar(xs, vals, width, label=f"batch {bs}")
        for x, v in zip(xs, vals, strict=True):
            ax.text(x, v * 1.05, f"{v:g}", ha="center", fontsize=8)
    ax.set_xticks(range(len(names)), names)
    ax.set_yscale("log")
    ax.set_ylim(low / 3, None)  # log bars need a floor well below the slowest model
    ax.set_ylabel("articles / s (log)")
    ax.set_title(f"Prediction speed, {s['n_articles']} articles of >= {s['min_tokens']} tokens")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    save_figure(fig, path)


def speed_section(s: dict) -> list[str]:
    path = RESULTS / "speed.png"
    plot_speed(s, path)
    tok = s["tokens"]
    lines = ["## Prediction speed", "", _command(s), "",
             f"{s['n_articles']} fixed articles, {tok['min']}-{tok['max']} tokens (mean {tok['mean']}), each model "
             "in its own fresh process after a warm-up; `predict` without partner evidence. The ratio column says "
             "how many times slower than TF-IDF at the same batch size, measured in the same run.", "",
             "| model | batch | articles/s | x slower than TF-IDF | peak RSS (MB) | RSS after load (MB) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, m in s["models"].items():
        for bs, b in m["batch"].items():
            lines.append(f"| {name} | {bs} | {b['articles_per_s']} | {b['slowdown_vs_tfidf']} | {m['peak_rss_mb']} | "
                         f"{m['rss_after_load_mb']} |")
    if s.get("default_is_standin"):
        lines += ["", "No trained default run was available: `default` is configs/default.yaml after one training "
                  "step (`runs/bench/default-1step`): same architecture, trimmed vocabulary and windows, so the same "
                  "speed and memory; its predictions are meaningless."]
    lines += ["", f"![speed]({_rel(path)})", "",
              "Peak RSS is that of the whole process (Python, torch and scikit-learn imported: "
              f"{min(m['rss_before_load_mb'] for m in s['models'].values())} MB before any model is loaded)."]
    return lines


def plot_scaling(sc: dict, path: Path) -> None:
    plt = _plt()
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.6))
    for name, m in sc["models"].items():
        sizes = [int(n) for n in m["by_size"]]
        label = f"{name} ({Path(m['run_dir']).name})"
        a.plot(sizes, [m["by_size"][str(n)]["seconds"] for n in sizes], "o-", label=label)
        b.plot(sizes, [m["by_size"][str(n)]["peak_rss_mb"] for n in sizes], "o-", label=label)
    a.set_xscale("log")
    a.set_yscale("log")
    a.set_xlabel("articles")
    a.set_ylabel("seconds (log)")
    a.set_title("time")
    b.set_xscale("log")
    b.set_xlabel("articles")
    b.set_ylabel("peak RSS (MB)")
    b.set_ylim(0, None)
    b.set_title("memory")
    for ax in (a, b):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    save_figure(fig, path)


def scaling_section(sc: dict) -> list[str]:
    path = RESULTS / "scaling.png"
    plot_scaling(sc, path)
    lines = ["## Scaling", "", _command(sc), "",
             f"The {sc['distinct_articles']} speed articles (mean {sc['mean_tokens']} tokens) repeated to each size, "
             f"labelled by the streaming `predict_file` (scripts/predict.py's path, partner evidence included, "
             f"batch {sc['batch_size']}), each size in a fresh process.", "",
             "| model | run | articles | seconds | ms / article | peak RSS (MB) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, m in sc["models"].items():
        for n, r in m["by_size"].items():
            lines.append(f"| {name} | `{m['run_dir']}` | {n} | {r['seconds']} | {r['ms_per_article']} | "
                         f"{r['peak_rss_mb']} |")
    lines += ["", f"![scaling]({_rel(path)})", "",
              "Linear time shows as a constant ms / article; flat memory as a peak that does not grow with the size."]
    return lines


def onnx_section(o: dict) -> list[str]:
    """PyTorch fp32 vs ONNX fp32 vs ONNX int8 (benchmarks/bench_onnx.py), ratios measured in one process."""
    lines = ["## ONNX export and int8 quantisation", "",
             f"Command: `python benchmarks/bench_onnx.py` — model: {o['model']}; {o['articles']} articles of "
             f"{o['tokens_per_article']['min']}+ tokens (mean {o['tokens_per_article']['mean']:.0f}), "
             f"{o['threads']} threads, best of {o['rounds']} rounds.", "",
             "| batch | PyTorch fp32 (art./s) | ONNX fp32 (art./s) | ONNX int8 (art./s) | int8 vs PyTorch |",
             "| --- | --- | --- | --- | --- |"]
    for key, r in o["results"].items():
        a, x = r["articles_per_s"], r["speedup_vs_pytorch_fp32"]
        lines.append(f"| {key.split('_')[-1]} | {a['pytorch_fp32']} | {a['onnx_fp32']} ({x['onnx_fp32']}×) "
                     f"| {a['onnx_int8']} ({x['onnx_int8']}×) | {x['onnx_int8']}× |")
    lines += ["", "Parity (fp32 within 1e-4, int8 topic agreement) is tested in tests/test_onnx.py; "
              "details in docs/production.md."]
    return lines


def gpu_training_section(g: dict, cpu_minutes: float | None) -> list[str]:
    """Full training runs on a GPU (benchmarks/gpu_training.py): one row per run, then the spread over seeds."""
    runs = g["runs"]
    m = g["machine"]
    lines = ["## GPU training", "",
             f"Runs of `benchmarks/gpu_training.py` on {runs[0]['device'] if runs else 'a GPU'} ({m['date']}, "
             f"torch {m['torch']}, {m['usable_cores']} CPU cores); each run in a fresh process, scored on the "
             "dev split (where its thresholds were tuned), the test split and the seeds. Commands: "
             + ", then ".join(f"`{c}`" for c in dict.fromkeys(r.get("command", g["command"]) for r in runs)) + ".", "",
             "| config | seed | precision | steps | epochs | training (s) | wall, with loading and scoring (s) "
             "| articles/s | peak GPU memory (GB) | dev mean macro F1 | test topic macro F1 | test regions micro F1 "
             "| test sectors micro F1 | test partners micro F1 |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in runs:
        dev, test = r["scores"].get("dev", {}), r["scores"]["test"]
        lines.append(f"| `{r['config']}` | {r['seed']} | {r['precision']} | {r['global_step']} | {r['epochs_run']} | "
                     f"{r['train_runtime_s']} | {r['wall_seconds']} | {r['train_samples_per_second']} | "
                     f"{r['peak_gpu_memory_gb']} | {dev.get('mean_macro_f1', '-')} | {test['topic.macro_f1']} | "
                     f"{test['regions.micro_f1']} | {test['sectors.micro_f1']} | {test['partners.micro_f1']} |")
    for config, s in g["summary"].items():
        if len(s["seed_values"]) < 2:
            continue
        spread = ", ".join(f"{k} {v['mean']} ± {v['std']} (range {v['range']})" for k, v in s["test"].items())
        lines += ["", f"`{config}` over seeds {s['seed_values']}, test split: {spread}."]
    default = [r for r in runs if r["config"] == DEFAULT_TRANSFORMER]
    if cpu_minutes and default:
        gpu_minutes = min(r["train_runtime_s"] for r in default) / 60
        lines += ["", f"Training time of `{DEFAULT_TRANSFORMER}`, GPU against the 2-core CPU run recorded under "
                  f"Training cost ({cpu_minutes} min): {gpu_minutes:.2f} min, "
                  f"{cpu_minutes / gpu_minutes:.0f}x faster (fastest run; the first run on a fresh machine "
                  "includes CUDA start-up)."]
    if g.get("skipped_for_budget"):
        lines += ["", f"Not run for lack of time: {', '.join(g['skipped_for_budget'])}."]
    return lines


def machine_section(m: dict) -> list[str]:
    return ["## Machine", "", "As recorded by the first benchmark of the report (each JSON file holds its own).", "",
            "| | |", "| --- | --- |"] + [f"| {k} | {v} |" for k, v in m.items()]


def main(argv=None) -> int:
    run = _load("run_all")
    parts = {n: _load(n) for n in ("quality", "training_cost", "speed", "scaling", "onnx")}
    first = next((p for p in parts.values() if p), None)
    lines = ["# Benchmarks", "",
             "Generated by `benchmarks/report.py` from `benchmarks/results/*.json`; do not edit by hand.", ""]
    if run:
        lines += [f"Last suite run: `{run['command']}`{' (' + run['date'] + ')' if run.get('date') else ''}, "
                  f"{run['total_minutes']} min in all "
                  f"({', '.join(f'{k} {v} min' for k, v in run['step_minutes'].items())}). Each section below names "
                  "its own command and date; a section newer than the suite was rerun on its own.", ""]
        lines += run.get("notes", [])
        if run.get("notes"):
            lines.append("")
    if NOTES.is_file():  # hand-written context for the latest numbers
        lines += [NOTES.read_text("utf-8").strip(), ""]
    if first:
        m = first["machine"]
        lines += [f"Measured on {m.get('cpu', '?')}, {m.get('usable_cores')} usable cores, {m.get('memory_gb')} GB, "
                  f"{m.get('date')}; 1-minute load average at the start of the quality run: "
                  f"{m.get('load_average_1m')}. On a shared machine, absolute times drift; compare ratios.", ""]
    sections = {"quality": quality_section, "training_cost": training_section, "speed": speed_section,
                "scaling": scaling_section, "onnx": onnx_section}
    for name, fn in sections.items():
        lines += fn(parts[name]) if parts[name] else [f"## {name}", "", "Not run.", ""]
        lines.append("")
    gpu = _load("gpu_training")
    if gpu and not gpu.get("quick"):  # a --quick CPU check of the script is not a GPU measurement
        cpu = (parts["training_cost"] or {}).get("recorded_full_run", {}).get("train_runtime_minutes")
        lines += gpu_training_section(gpu, cpu) + [""]
    if RAY.is_file():  # written by hand from benchmarks/bench_ray.py's output (results/ray.json)
        lines += [RAY.read_text("utf-8").strip(), ""]
    if first:
        lines += machine_section(first["machine"])
    (ROOT / "BENCHMARKS.md").write_text("\n".join(lines).rstrip() + "\n", "utf-8")
    print("wrote BENCHMARKS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
