"""`python -m judgebench.cli ...`: the same as the `judgebench` command."""

import sys

from judgebench.cli import main

sys.exit(main())
