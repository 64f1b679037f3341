"""Statistics layer: win rates, the length-controlled GLM, bootstrap intervals, paired comparisons."""
