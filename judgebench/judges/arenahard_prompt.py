"""Arena-Hard-Auto's own judge prompt, read at run time from the user's arena-hard-auto checkout.

    judgebench annotate --judge arena-hard ...        # v2's prompt and parser (JUDGEBENCH_ARENA_HARD_DIR)
    judgebench annotate --judge arena-hard:v0.1 ...   # a v0.1 checkout's prompt, v0.1's parser

The prompt text is arena-hard-auto's and stays in their repository: judgebench never ships it. A v2
checkout keeps the system prompt in utils/judge_utils.py (OG_ARENA_HARD_PROMPT) and the user template in
config/arena-hard-v2.0.yaml; a v0.1 checkout keeps both in config/judge_config.yaml. The verdicts go
through Arena-Hard's protocol (both orders, five levels) with the version's parser.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

from judgebench.errors import InputError
from judgebench.judges.spec import JudgeSpec, safe_yaml_load

ENV = "JUDGEBENCH_ARENA_HARD_DIR"
NAMES = ("arena-hard", "arena-hard:v2", "arena-hard:v0.1")
GET_IT = (
    "git clone https://github.com/lmarena/arena-hard-auto and pass --arena-hard-dir DIR or set "
    f"{ENV}=DIR (for v0.1's prompt: git -C DIR checkout 0489bf3)"
)
# the user template's placeholders, by layout: (question, first shown, second shown)
PLACEHOLDERS = {"v2": ("QUESTION", "ANSWER_A", "ANSWER_B"), "v0.1": ("question_1", "answer_1", "answer_2")}


def checkout_dir(given: str | Path | None = None) -> Path:
    folder = given or os.environ.get(ENV)
    if not folder:
        raise InputError(
            "the judge arena-hard reads Arena-Hard-Auto's prompt from a checkout, and none is set",
            field="--arena-hard-dir",
            hint=GET_IT,
        )
    path = Path(folder)
    if not path.is_dir():
        raise InputError(f"{path}: no such folder", field="--arena-hard-dir", hint=GET_IT)
    return path


def official_prompt(root: Path, version: str) -> tuple[str, str, dict]:
    """(system prompt, user template, the config's settings) from the checkout, in its own layout."""
    old = root / "config" / "judge_config.yaml"
    if version == "v0.1" and old.exists():
        config = safe_yaml_load(old)
        template = config["prompt_template"]
        return config["system_prompt"], template[0] if isinstance(template, list) else template, config
    utils, config_file = root / "utils" / "judge_utils.py", root / "config" / "arena-hard-v2.0.yaml"
    if version == "v2" and utils.exists() and config_file.exists():
        return (
            _string_constant(utils, "OG_ARENA_HARD_PROMPT"),
            safe_yaml_load(config_file)["prompt_template"],
            safe_yaml_load(config_file),
        )
    layout = (
        "config/judge_config.yaml"
        if version == "v0.1"
        else "utils/judge_utils.py and config/arena-hard-v2.0.yaml"
    )
    raise InputError(
        f"{root} has no {layout} (arena-hard-auto {version})", field="--arena-hard-dir", hint=GET_IT
    )


def _string_constant(path: Path, name: str) -> str:
    """A module-level string assigned in a Python file, read without running the file."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        named = isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets)
        value = getattr(node, "value", None)
        if named and isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
    raise InputError(f"no string {name} in {path}", path=path, hint=GET_IT)


def load_arena_hard_judge(name: str, folder: str | Path | None = None) -> JudgeSpec:
    version = "v0.1" if name.endswith(":v0.1") else "v2"
    root = checkout_dir(folder)
    system, template, config = official_prompt(root, version)
    question, first, second = PLACEHOLDERS[version]
    for key in (question, first, second):
        if "{" + key + "}" not in template:
            raise InputError(f"the official template lacks {{{key}}}", path=root, hint=GET_IT)

    def render(instruction: str, output_first: str, output_second: str, **_) -> list[dict]:
        # one pass over the template's own placeholders: an answer holding "{ANSWER_B}" stays as written
        values = {question: instruction, first: output_first, second: output_second}
        parts, rest = [], template
        while rest:
            hits = [(rest.find("{" + k + "}"), k) for k in values if "{" + k + "}" in rest]
            if not hits:
                parts.append(rest)
                break
            at, key = min(hits)
            parts += [rest[:at], values[key]]
            rest = rest[at + len(key) + 2 :]
        return [{"role": "system", "content": system}, {"role": "user", "content": "".join(parts)}]

    return JudgeSpec(
        name=f"arena-hard:{version}",
        protocol="arenahard",
        parser="arena_verdict_v01" if version == "v0.1" else "arena_verdict_v2",
        template_source=system + "\x00" + template,
        model=str(config.get("judge_model", "gpt-4.1")),
        decoding={
            "temperature": float(config.get("temperature", 0.0)),
            "max_tokens": int(config.get("max_tokens", 4096)),
        },
        source=f"arena-hard-auto's own prompt, read from {root}",
        render_fn=render,
    )
