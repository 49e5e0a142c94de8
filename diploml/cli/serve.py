"""Serve a run directory over HTTP: POST /predict, GET /health, GET /model and the review page at /.

    diploml serve --model RUN_DIR [--backend auto|torch|onnx|onnx-int8] [--port 8000]   (pip install 'diploml[serve]')
"""

from __future__ import annotations


def register(sub, prog: str | None = None) -> None:
    from diploml.cli import Formatter
    from diploml.serve.cli import add_serve_arguments

    p = sub.add_parser("serve", help="prediction service and review page", description=__doc__,
                       formatter_class=Formatter, **({"prog": prog} if prog else {}))
    add_serve_arguments(p)
