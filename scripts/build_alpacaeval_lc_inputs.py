"""Rebuild judgebench/data/alpacaeval2_{difficulty,gamed_standin}.csv and _lc_correction.json from a data folder.

    python scripts/build_alpacaeval_lc_inputs.py [DATA_DIR]     (default: $JUDGEBENCH_DATA)

How the estimate is made: judgebench/stats/alpacaeval_lc.py. Deterministic: same inputs, same bytes.
"""

import json
import sys

from judgebench.settings import data_dir
from judgebench.stats import alpacaeval_lc


def rounded(v):
    """Floats to 10 decimals (also inside lists), so the file's bytes are reproducible."""
    if isinstance(v, list):
        return [rounded(x) for x in v]
    return round(v, 10) if isinstance(v, float) else v


def main() -> None:
    root = sys.argv[1] if len(sys.argv) > 1 else data_dir()
    difficulty, gamed, facts = alpacaeval_lc.build(root)
    alpacaeval_lc.PACKAGE_DATA.mkdir(exist_ok=True)
    difficulty.to_csv(alpacaeval_lc.DIFFICULTY_FILE, index=False, float_format="%.10f")
    gamed.to_csv(alpacaeval_lc.GAMED_FILE, index=False, float_format="%.10f")
    correction = {k: rounded(v) for k, v in facts["lc_correction"].items()}
    alpacaeval_lc.CORRECTION_FILE.write_text(json.dumps(correction, indent=1) + "\n")
    print(
        json.dumps(
            {k: v for k, v in facts.items() if k != "models_used"} | {"n_models": len(facts["models_used"])}
        )
    )


if __name__ == "__main__":
    main()
