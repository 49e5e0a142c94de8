"""``python scripts/predict.py ARGS`` is ``diploml predict ARGS`` (see ``diploml predict --help``)."""

import sys

from diploml.cli import script_main


def main(argv=None) -> int:
    return script_main("predict", argv)


if __name__ == "__main__":
    sys.exit(main())
