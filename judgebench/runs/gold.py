"""`evaluate --gold-judge SPEC --gold-budget N`: the expensive ("gold") judge's numbers for the price of N of
its calls. The run's judge (the cheap one) judges every pair as usual; N of those pairs, drawn at random
(seeded by --gold-seed), are judged again by the gold judge through the same annotation pipeline and store (a
rerun makes no call twice); PPI++ (`stats/ppi.py`, `stats/ppi_lc.py`) turns both into the gold judge's win rate
and LC win rate with intervals, beside the gold judge's own figures on its N pairs alone.

The pairs must be drawn at random for the estimate to be unbiased: that is why they are drawn here, not chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from judgebench.annotation.annotate import AnnotationRun, annotate_pairs
from judgebench.annotation.annotate import manifest as annotation_manifest
from judgebench.annotation.pairs import pairs_from_records
from judgebench.annotation.pipeline import closing
from judgebench.errors import InputError
from judgebench.files.atomic import write_json
from judgebench.files.records import annotations_frame
from judgebench.judges import load_judge
from judgebench.judges.protocols import protocol_of
from judgebench.judges.spec import JudgeSpec
from judgebench.runs.config import EvaluateConfig
from judgebench.store import Store

GOLD_FILE = "gold_annotations.json"


@dataclass
class GoldJudgments:
    spec: JudgeSpec
    run: AnnotationRun
    n_pairs: int  # pairs the cheap judge judged, the gold sample drawn from them


def gold_spec(config: EvaluateConfig) -> JudgeSpec | None:
    """The gold judge's spec, checked against the run before any call: a pairwise judge, no --tiny."""
    if config.gold_judge is None:
        if config.gold_budget is not None:
            raise InputError(
                "--gold-budget needs --gold-judge", hint="name the expensive judge with --gold-judge"
            )
        return None
    if config.gold_budget is None:
        raise InputError("--gold-judge needs --gold-budget N", hint="how many pairs the gold judge may judge")
    if config.tiny is not None:
        raise InputError(
            "--gold-judge with --tiny is not supported", hint="use one way of saving judge calls at a time"
        )
    spec = load_judge(config.gold_judge)
    protocol = protocol_of(spec)
    if not protocol.pairwise or protocol.yields == "score" or protocol.multi_turn:
        raise InputError(
            f"gold judge {spec.name} ({spec.protocol}) does not give a pairwise preference",
            field="--gold-judge",
            hint="PPI needs a single-turn pairwise judge (e.g. alpacaeval2)",
        )
    return spec


def draw_gold_pairs(n_pairs: int, budget: int, seed: int) -> np.ndarray:
    """Indices of the pairs the gold judge judges: `budget` of `n_pairs`, uniformly at random, sorted."""
    return np.sort(np.random.default_rng(seed).choice(n_pairs, min(budget, n_pairs), replace=False))


async def judge_gold(
    config: EvaluateConfig, spec: JudgeSpec, judged, baseline, store: Store
) -> GoldJudgments:
    """The gold judge on a random `gold_budget` of the judged outputs (`judged`: the outputs the cheap judge
    saw, in the selection's order), each call kept in the store as it completes."""
    base_by = {r["instruction"]: r for r in baseline.to_dict("records")}
    pairs = pairs_from_records(judged.to_dict("records"), base_by, multi_turn=False)
    budget = config.gold_budget if config.gold_budget is not None else len(pairs)  # gold_spec requires one
    chosen = [pairs[i] for i in draw_gold_pairs(len(pairs), budget, config.gold_seed)]
    backend, url = config.judge_backend(spec, config.gold_judge_model, config.gold_judge_base_url)
    async with closing(backend):
        if config.wrap_judge is not None:
            backend = config.wrap_judge(backend)
        run = await annotate_pairs(chosen, spec, backend, store, config.progress)
    run.manifest = annotation_manifest(spec, backend, url, run) | {
        "gold_budget": config.gold_budget,
        "gold_seed": config.gold_seed,
        "drawn_from": len(pairs),
    }
    return GoldJudgments(spec, run, len(pairs))


def write_gold(out: Path, gold: GoldJudgments) -> None:
    write_json(out / GOLD_FILE, gold.run.records)
    write_json(out / "gold_annotations.manifest.json", gold.run.manifest)


def gold_estimate(cheap_records: list[dict], gold: GoldJudgments, out: Path, n_boot: int, seed: int) -> dict:
    """summary.json's `gold` part: the PPI estimates (percent) of the gold judge's win rate and LC, its own
    figures on its pairs alone, what its calls cost; or `error` where no estimate can be made."""
    from judgebench.stats.ppi_lc import ppi_by_model

    head = {
        "judge": gold.spec.name,
        "budget": len(gold.run.records),
        "drawn_from": gold.n_pairs,
        "annotation": gold.run.summary,
        "file": GOLD_FILE,
    }
    judged = [r for r in cheap_records if not str(r.get("failure") or "").startswith("generation failed")]
    cheap = annotations_frame(judged, out / "annotations.json", keep_extra=False)
    frame = annotations_frame(gold.run.records, out / GOLD_FILE, keep_extra=False)
    try:
        (result,) = ppi_by_model(cheap, frame, n_boot=n_boot, seed=seed)
    except InputError as e:  # e.g. every gold call failed: the judgments are saved; claim nothing
        return {**head, "error": str(e)}
    return {**head, **result}
