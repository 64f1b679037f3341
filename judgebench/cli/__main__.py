"""`python -m judgebench.cli ...`: the same as the `judgebench` command."""

import sys

from . import main

sys.exit(main())
