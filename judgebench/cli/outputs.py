"""No command writes over one of its own inputs: one check, run by `main` for every command.

`--out` equal to `--annotations`, `--report` equal to `--out`, `--store` equal to `--outputs`: each would
destroy what the command is reading (or the other output) and is refused before anything runs, with
one line naming both flags. Paths are compared resolved (`./a.json`, `a.json`, a symlink to it, a hard
link to it are one file); an output's manifest (`out.manifest.json`) counts as an output.
"""

from __future__ import annotations

import argparse
import glob
import os
from pathlib import Path

from judgebench.errors import InputError

# The flags (argparse dests) a command writes to; every other path-valued flag is an input.
OUTPUT_DESTS = ("store", "dst", "out", "report")
# Per command: flags that are outputs there though inputs elsewhere (evaluate merges into --leaderboard).
OUTPUT_DESTS_OF = {"evaluate": ("leaderboard",)}


def _flag(dest: str) -> str:
    return "--" + dest.split(".")[-1].replace("_", "-") if dest not in ("src", "dst") else dest.upper()


def _identity(path: Path) -> tuple:
    """What makes two spellings one file: the inode where the file exists, else the resolved path."""
    try:
        st = path.stat()
        return ("inode", st.st_dev, st.st_ino)
    except (OSError, ValueError):
        try:
            return ("path", str(path.expanduser().resolve()))
        except (OSError, RuntimeError, ValueError):
            return ("path", str(path))


def _paths(value: object) -> list[str]:
    values = value if isinstance(value, list | tuple) else [value]
    out = []
    for v in values:
        if isinstance(v, str | os.PathLike) and str(v) and "://" not in str(v):
            text = str(v)
            out.extend(glob.glob(text) if any(c in text for c in "*?[") else [text])
    return out


def check_distinct_outputs(args: argparse.Namespace) -> None:
    """Refuse (InputError, exit 2) an output that is one of the inputs or another output."""
    from judgebench.files.atomic import manifest_path

    output_dests = OUTPUT_DESTS + OUTPUT_DESTS_OF.get(getattr(args, "command", ""), ())
    outputs: dict[tuple, str] = {}
    for dest in output_dests:
        value = getattr(args, dest, None)
        for text in _paths(value):
            path = Path(text)
            for candidate, label in ((path, _flag(dest)), (manifest_path(path), f"{_flag(dest)}'s manifest")):
                key = _identity(candidate)
                if key in outputs and outputs[key] != label and not label.endswith("manifest"):
                    raise InputError(
                        f"{label} {text} is the {outputs[key]} too: one would overwrite the other",
                        field=_flag(dest),
                        hint=f"give {_flag(dest)} another file name",
                    )
                outputs.setdefault(key, label)
    if not outputs:
        return
    for dest, value in sorted(vars(args).items()):
        if dest in output_dests or dest in ("func", "command"):
            continue
        for text in _paths(value):
            path = Path(text)
            try:
                if not path.exists():
                    continue
            except (OSError, ValueError):  # a name too long, a NUL: no file, the command says why
                continue
            key = _identity(path)
            if key in outputs:
                raise InputError(
                    f"{outputs[key]} is the {_flag(dest)} input {text}: writing it would destroy the input",
                    field=outputs[key].split("'")[0],
                    hint=f"write {outputs[key].split(chr(39))[0]} to another file",
                )
