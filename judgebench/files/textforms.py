"""Unicode forms of instruction text: NFD and NFC spell the same text to a reader (an accented letter as one
code point or as a letter and a combining mark), so joins on instruction text match them after NFC
normalisation and say so once, rather than counting the same instruction as missing on both sides."""

from __future__ import annotations

import sys
import unicodedata

import pandas as pd


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def notice(n: int, where: str) -> None:
    print(
        f"judgebench: notice: {n} instructions of {where} are not in Unicode NFC form (NFD or mixed); "
        "matched after NFC normalisation",
        file=sys.stderr,
    )


def nfc_instructions(
    frame: pd.DataFrame, where: str | None = None, column: str = "instruction"
) -> pd.DataFrame:
    """`frame` with its instructions in NFC form (the same frame when they already are), and one notice
    naming `where` (else the frame's source files) when any changed."""
    if frame.empty:
        return frame
    texts = frame[column].tolist()
    normal = [nfc(t) if isinstance(t, str) else t for t in texts]
    changed = [i for i, (a, b) in enumerate(zip(texts, normal, strict=True)) if a != b]
    if not changed:
        return frame
    if where is None:
        files = frame["source_file"].iloc[changed].unique().tolist() if "source_file" in frame else []
        where = (
            ", ".join(map(str, files[:3])) + (" ..." if len(files) > 3 else "")
            if files
            else "the annotations"
        )
    notice(len(changed), where)
    return frame.assign(**{column: normal})
