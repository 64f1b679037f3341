"""`judgebench jury`: several judges' annotations of the same pairs as one judge (AlpacaFarm's pools)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from judgebench.cli.declared import number
from judgebench.cli.options import (
    add_annotations_option,
    add_json_option,
    add_n_boot_option,
    add_out_option,
    add_seed_option,
)
from judgebench.files.safetext import printable


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "jury",
        help="several judges as one: the pooled preference, agreement between them (kappas), their biases",
    )
    add_annotations_option(
        p, "one annotation file (or folder) a member: each member's judgments of the same pairs", True
    )
    p.add_argument(
        "--aggregate",
        choices=("mean", "majority"),
        default="mean",
        help="the jury's preference: the members' mean preference, or their majority vote (default mean)",
    )
    p.add_argument(
        "--humans",
        metavar="FILE",
        help="human labels of the same pairs (AlpacaEval's instruction/output_1/output_2/preference rows, "
        "or MT-Bench's human judgments: question_id/model_a/model_b/winner/turn)",
    )
    p.add_argument(
        "--flip-prob",
        type=number(float, minimum=0.0, maximum=1.0),
        default=0.0,
        help="AlpacaFarm's label noise: reverse each of the jury's written verdicts with this probability "
        "(simulating a noisy preference signal; needs --out; default 0)",
    )
    add_n_boot_option(p, 1000)
    add_seed_option(p, "seed of the bootstrap and of the label noise (default 0)")
    add_out_option(
        p, "write the jury's annotations (the first member's records, the jury's preference)", "JSON"
    )
    add_json_option(p, "print the statistics as JSON")
    return p


def _member_name(path: str, frame, taken: set) -> str:
    names = frame["annotator"].dropna().unique() if "annotator" in frame else []
    name = str(names[0]) if len(names) == 1 and str(names[0]) not in taken else Path(path).name.split(".")[0]
    while name in taken:
        name += "'"
    taken.add(name)
    return name


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from judgebench.audit.biases import annotation_biases
    from judgebench.files.records import load_annotations
    from judgebench.stats import jury

    if args.out:
        from judgebench.files.atomic import check_output_file

        check_output_file(args.out)
    from judgebench.errors import ConfigError

    if args.flip_prob and not args.out:
        raise ConfigError("--flip-prob adds noise to the written verdicts -> give --out FILE too")
    frames: dict = {}
    taken: set[str] = set()
    for path in args.annotations:
        frame = load_annotations([path], keep_extra=True)
        frames[_member_name(path, frame, taken)] = frame
    wide, notes = jury.align(frames)
    first = next(iter(frames.values()))
    humans = jury.human_labels(args.humans, first) if args.humans else None
    result = jury.jury_statistics(wide, args.aggregate, n_boot=args.n_boot, seed=args.seed, humans=humans)
    result["notes"] = notes
    if humans is not None:
        result["human_agreement"] = {**result.get("human_agreement", {}), **humans.attrs}
    result["member_biases"] = {}
    for name, frame in frames.items():
        b = annotation_biases(frame)
        result["member_biases"][name] = {k: b[k] for k in ("p_prefer_longer", "first_slot_rate")} | {
            "p_prefer_longer_ci": list(b["p_prefer_longer_ci"]),
            "first_slot_rate_ci": list(b["first_slot_rate_ci"]),
        }
    if args.out:
        _write(args, first, wide, np.random.default_rng(args.seed))
    if args.json:
        print(json.dumps(result, indent=1, default=float))
        return 0
    _print(result)
    return 0


def _write(args, first, wide, rng) -> None:
    from judgebench.files.atomic import atomic_write
    from judgebench.stats import jury

    pool = jury.aggregate(wide, args.aggregate)
    if args.flip_prob:
        pool[:] = jury.flip_labels(pool.to_numpy(), args.flip_prob, rng)
    keep = first.set_index(["generator_2", "instruction"]).loc[pool.index].reset_index()
    keep = keep[["instruction", "output_1", "generator_1", "output_2", "generator_2"]]
    keep["preference"] = pool.to_numpy()
    keep["annotator"] = f"jury:{args.aggregate}:" + ",".join(wide.columns)
    if args.flip_prob:  # simulated: say so in every record
        keep["annotator"] += f"+label_noise:{args.flip_prob:g}"
    atomic_write(args.out, keep.to_json(orient="records", indent=1, force_ascii=False))
    print(f"wrote {args.out}: the jury's verdicts on {len(keep)} pairs")


def _ci(d) -> str:
    value = d.get("kappa")
    if value is None or value != value:
        return "undefined"
    if d.get("ci_low") is None:
        return f"{value:.3f}"
    return f"{value:.3f} [{d['ci_low']:.3f}, {d['ci_high']:.3f}]"


def _print(r: dict) -> None:
    n = r["notes"]
    print(
        f"jury of {len(r['members'])} ({r['aggregate']}): {r['n_pairs']} pairs judged by every member, "
        f"{r['n_instructions']} instructions"
        + (
            f"; left out (a member lacks them): {n['n_pairs_any'] - n['n_pairs']}"
            if n["n_pairs_any"] > n["n_pairs"]
            else ""
        )
    )
    print(f"  Fleiss' kappa {_ci(r['fleiss_kappa'])} ({r['level']:.0%} interval over instructions)")
    for pair, k in r["cohen_kappa"].items():
        print(f"  Cohen's kappa {printable(pair)}: {_ci(k)}")
    print(f"  {'member':30s} {'win rate':>8s} {'agrees w/ jury':>14s} {'P(longer)':>9s} {'first slot':>10s}")
    for m in r["members"]:
        b = r["member_biases"][m]
        print(
            f"  {printable(m)[:30]:30s} {r['win_rate'][m]:8.1f} {r['agreement_with_jury'][m]:14.3f} "
            f"{b['p_prefer_longer']:9.3f} {b['first_slot_rate']:10.3f}"
        )
    print(f"  {'jury':30s} {r['win_rate']['jury']:8.1f}")
    h = r.get("human_agreement")
    if h and "jury" in h:
        members = ", ".join(f"{printable(m)} {h[m]:.3f}" for m in r["members"])
        print(
            f"  agreement with humans on {h['n_pairs']} pairs: jury {h['jury']:.3f}; {members}"
            + (f" ({h['n_unmatched']} human rows matched no pair)" if h.get("n_unmatched") else "")
        )
