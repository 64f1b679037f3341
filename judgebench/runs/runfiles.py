"""The files a run leaves behind: an annotations file and its manifest, an evaluation folder's report.

    out, manifest = annotation_files("annotations.json", store="judge.sqlite")   # before the first paid call
    run = annotate_files(...)
    write_annotation_files(run, out, manifest)

Every write goes through `fsutil.atomic_write`; the checks run before any model is called, so a bad
path fails in a second rather than after an hour of judging.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from judgebench.errors import InputError
from judgebench.files.atomic import (
    atomic_write,
    check_output_file,
    manifest_path,
    write_together,
)


def annotation_files(out: str | Path, store: str | Path | None = None) -> tuple[Path, Path]:
    """The annotations file and its manifest, checked writable and distinct from the store."""
    out = check_output_file(out)
    manifest = manifest_path(out)
    check_output_file(manifest, "the manifest")
    if store is not None and Path(store).resolve() in (out.resolve(), manifest.resolve()):
        raise InputError(
            "--out (or its manifest) is the --store: writing it would destroy the judgments",
            field="--out",
            hint="give the annotations another file name",
        )
    return out, manifest


def write_annotation_files(run: Any, out: str | Path, manifest: str | Path) -> None:
    """An `AnnotationRun`'s records (AlpacaEval format) and manifest."""
    write_together({Path(out): run.records, Path(manifest): run.manifest})  # one unit: never new beside old


def write_evaluation_report(
    run_dir: str | Path, report: str | Path, generator: str, leaderboard: str | Path | None = None
) -> Path:
    """The HTML report of an `evaluate` output folder (its annotations, manifest and leaderboard)."""
    from judgebench.files.records import annotations_frame, read_json, read_records
    from judgebench.leaderboard.board import read_leaderboard
    from judgebench.report import write_report

    run_dir = Path(run_dir)
    annotations = run_dir / "annotations.json"
    frame = annotations_frame(read_records(annotations), annotations, keep_extra=False)
    return write_report(
        report,
        board=read_leaderboard(leaderboard or run_dir / "leaderboard.csv"),
        annotations=frame,
        manifests=[read_json(run_dir / "annotations.manifest.json")],
        title=f"judgebench evaluation of {generator}",
        inputs=[str(annotations)],
    )


def audit_annotations(paths: list[str], out: str | Path | None = None) -> dict:
    """Biases of the judge behind existing annotations (no new call): P(prefer longer), the first-slot
    rate and the verbose/concise variants' shifts; written to OUT/annotation_biases.json when `out` is given."""
    from judgebench.audit import annotation_biases, variant_shifts
    from judgebench.files.records import load_annotations
    from judgebench.leaderboard.board import make_leaderboard

    frame = load_annotations(paths, keep_extra=False)
    biases = annotation_biases(frame)
    board, _ = make_leaderboard(frame, n_boot=0, detect_cheating=False)
    biases["variant_shifts"] = variant_shifts(board)
    if out:
        atomic_write(Path(out) / "annotation_biases.json", json.dumps(biases, indent=1))
    return biases
