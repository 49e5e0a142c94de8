"""Command-line glue for ``diploml serve`` and ``diploml predict --engine ray``.

    diploml serve --model RUN_DIR [--backend auto|torch|onnx|onnx-int8] [--host 127.0.0.1] [--port 8000]
    diploml predict --engine ray --model RUN_DIR INPUT -o OUT_DIR [--num-actors 2] [--shard-format parquet]

``add_serve_arguments``/``run_serve`` make the ``serve`` sub-command; ``add_ray_arguments`` adds the
Ray options to an existing ``predict`` parser (or, on a bare parser, every option it needs) and
``run_ray_predict`` runs it. Under ``--engine ray`` a ``--backend`` left at its default means
``auto``: the int8 ONNX graph when the run has one, else PyTorch (PyTorch on GPU actors).

Wiring into ``diploml``: ``serve``: ``add_serve_arguments(sub.add_parser("serve", ...))`` (it sets
``func=run_serve``); ``predict``: ``add_ray_arguments(p)`` after the predict options, and at the top of
the predict command ``if args.engine == "ray": return run_ray_predict(args)``. Until then
``python -m diploml.serve.cli serve|predict ...`` runs both.
"""

from __future__ import annotations

import argparse
import sys

BACKEND_CHOICES = ["auto", "torch", "onnx", "onnx-int8"]


class _Default(str):
    """A parser default that still reads as its plain value but tells 'not given' apart from 'given'."""


def _error(message) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _has(parser: argparse.ArgumentParser, option: str) -> bool:
    return option in parser._option_string_actions


def add_serve_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    from diploml.predict import DEFAULT_MAX_CHARS

    parser.add_argument("--model", required=True, metavar="RUN_DIR", help="saved run directory")
    parser.add_argument("--backend", default="auto", choices=BACKEND_CHOICES,
                        help="auto: the int8 ONNX graph when exported ('diploml export --int8'), else PyTorch")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0: every interface)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-batch", type=int, default=32, help="articles per model call (micro-batching)")
    parser.add_argument("--max-wait-ms", type=float, default=10.0,
                        help="how long an article waits for others to share its model call")
    parser.add_argument("--max-request-bytes", type=int, default=5_000_000, help="larger request bodies get 413")
    parser.add_argument("--max-articles", type=int, default=256, help="articles per request; more get 413")
    parser.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS, help="longer articles get 422")
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    parser.set_defaults(func=run_serve)
    return parser


def run_serve(args) -> int:
    try:
        import uvicorn

        from diploml.serve.app import create_app
    except ImportError as e:
        return _error(f"the service needs FastAPI and uvicorn ({e.name} is missing): pip install 'diploml[serve]'")
    try:
        app = create_app(args.model, backend=args.backend, max_batch=args.max_batch, max_wait_ms=args.max_wait_ms,
                         max_request_bytes=args.max_request_bytes, max_articles=args.max_articles,
                         max_chars=args.max_chars)
    except (FileNotFoundError, ValueError) as e:
        return _error(e)
    info = app.state.info
    print(f"diploml serve: {info['model_type']} model {args.model} ({info['backend']} backend) on "
          f"http://{args.host}:{args.port}/ (review page), POST /predict, GET /health, GET /model", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def add_ray_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The Ray options; on a parser without the ``predict`` options, those too."""
    from diploml.predict import DEFAULT_MAX_CHARS

    if not _has(parser, "--model"):
        parser.add_argument("--model", required=True, metavar="RUN_DIR", help="saved run directory")
    if not any(a.dest == "input" for a in parser._actions):
        parser.add_argument("input", help="JSONL/CSV/Parquet file or folder, or a folder of .txt files")
    if not _has(parser, "--output"):
        parser.add_argument("-o", "--output", required=True, help="output folder (under --engine ray)")
    if not _has(parser, "--batch-size"):
        parser.add_argument("--batch-size", type=int, default=16, help="articles per forward pass")
    if not _has(parser, "--max-chars"):
        parser.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS,
                            help="longer articles get an error record")
    if not _has(parser, "--overwrite"):
        parser.add_argument("--overwrite", action="store_true", help="replace the shards of an earlier run")
    if _has(parser, "--backend"):
        action = parser._option_string_actions["--backend"]
        if action.choices is not None and "auto" not in action.choices:
            action.choices = [*action.choices, "auto"]
        if isinstance(action.default, str):
            action.default = _Default(action.default)
    else:
        parser.add_argument("--backend", default=_Default("auto"), choices=BACKEND_CHOICES,
                            help="auto: the int8 ONNX graph when exported, else PyTorch (PyTorch on GPUs)")
    if not _has(parser, "--engine"):
        parser.add_argument("--engine", default="local", choices=["local", "ray"],
                            help="ray: Ray Data actor pool, local instance or RAY_ADDRESS; -o is then a folder")
    parser.add_argument("--num-actors", type=int, default=2, help="(ray) model actors; one model copy each")
    parser.add_argument("--cpus-per-actor", type=float, default=1, help="(ray) CPUs (and model threads) per actor")
    parser.add_argument("--shard-format", default="parquet", choices=["parquet", "jsonl"],
                        help="(ray) output shards; JSONL lines are exactly the records of the local engine")
    parser.add_argument("--ray-batch-size", type=int, default=64, help="(ray) rows per actor call")
    parser.add_argument("--num-cpus", type=int, default=None,
                        help="(ray) CPUs of the local Ray instance (default: all); ignored with RAY_ADDRESS")
    return parser


def run_ray_predict(args) -> int:
    backend = "auto" if isinstance(args.backend, _Default) else args.backend
    try:
        from diploml.ray import predict_with_ray

        summary = predict_with_ray(args.model, args.input, args.output, num_actors=args.num_actors, backend=backend,
                                   batch_size=args.ray_batch_size, fmt=args.shard_format, max_chars=args.max_chars,
                                   cpus_per_actor=args.cpus_per_actor, overwrite=getattr(args, "overwrite", False),
                                   num_cpus=args.num_cpus, model_batch_size=args.batch_size)
    except ImportError as e:
        return _error(e)
    except (FileNotFoundError, FileExistsError, ValueError) as e:
        return _error(e)
    where = "GPU" if summary["gpu"] else "CPU"
    print(f"{summary.get('ok', '?')} predicted, {summary.get('error', '?')} errors in {summary['seconds']:.1f} s: "
          f"{summary['backend']} backend, {summary['num_actors']} {where} actor(s) -> {summary['out_dir']} "
          f"({len(summary.get('files', []))} {summary['format']} shards)", file=sys.stderr)
    if summary.get("error") and not summary.get("ok"):
        print("error: every record failed (see the error records in the output)", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    """A stand-alone parser (``python -m diploml.serve.cli serve|predict ...``) until the main CLI wires these in."""
    parser = argparse.ArgumentParser(prog="diploml")
    sub = parser.add_subparsers(dest="command", required=True)
    add_serve_arguments(sub.add_parser("serve", help="prediction service and review page"))
    predict = sub.add_parser("predict", help="label a file or folder with Ray Data")
    add_ray_arguments(predict)
    predict.set_defaults(func=run_ray_predict, engine="ray")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
