"""Generation: a model's outputs on an eval set, in-process or over a Ray cluster."""
