import sys

from diploml.cli import main

sys.exit(main())
