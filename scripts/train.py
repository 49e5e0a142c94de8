"""``python scripts/train.py ARGS`` is ``diploml train ARGS`` (see ``diploml train --help``)."""

import sys

from diploml.cli import script_main


def main(argv=None) -> int:
    return script_main("train", argv)


if __name__ == "__main__":
    sys.exit(main())
