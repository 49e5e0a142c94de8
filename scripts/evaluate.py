"""``python scripts/evaluate.py ARGS`` is ``diploml evaluate ARGS`` (see ``diploml evaluate --help``)."""

import sys

from diploml.cli import script_main


def main(argv=None) -> int:
    return script_main("evaluate", argv)


if __name__ == "__main__":
    sys.exit(main())
