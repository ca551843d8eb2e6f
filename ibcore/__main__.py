"""``python -m ibcore``: see :mod:`ibcore.cli`."""
import sys

from ibcore.cli import main

sys.exit(main())
