"""The benchmarks read the shared data beside the checkout unless JUDGEBENCH_DATA says otherwise (the
package itself never guesses a data folder from where it runs)."""

import os
from pathlib import Path

os.environ.setdefault("JUDGEBENCH_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data"))
