"""Finding a judge by name: prompts/NAME.yaml, a YAML path, `alpaca_eval:CONFIG` from an installed
alpaca-eval, or `fastchat:single|pair` from a FastChat copy. The one place that knows every spec format,
so none of their modules imports another."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from judgebench.errors import InputError
from judgebench.judges import arenahard_prompt, wildbench_prompt
from judgebench.judges.alpaca_eval_configs import load_alpaca_eval_judge, package_dir
from judgebench.judges.fastchat_prompts import load_fastchat_judge, prompts_file
from judgebench.judges.spec import JudgeSpec, load_spec, prompts_dir, safe_yaml_load

# Judges renamed because their prompts are judgebench's own wording, not the benchmark's official text:
# old name -> (new name, what the hint offers for the official prompt).
RENAMED = {
    "mtbench-single": (
        "judgebench-mt-single",
        "--judge fastchat:single for FastChat's prompt read from your copy",
    ),
    "mtbench-pair": ("judgebench-mt-pair", "--judge fastchat:pair for FastChat's prompt read from your copy"),
    "arenahard": (
        "judgebench-arena-pair",
        "--judge arena-hard for Arena-Hard-Auto's prompt read from your checkout (--arena-hard-dir)",
    ),
}


def load_judge(name: str) -> JudgeSpec:
    """By name from prompts/ (`alpacaeval2`), from a YAML path, `alpaca_eval:CONFIG` from an
    installed alpaca-eval package, or `fastchat:single|pair` from a FastChat copy."""
    if name.startswith("alpaca_eval:"):
        return load_alpaca_eval_judge(name.split(":", 1)[1])
    if name.startswith("fastchat:"):
        return load_fastchat_judge(name.split(":", 1)[1])
    if name in arenahard_prompt.NAMES:  # the official prompt, from the user's arena-hard-auto checkout
        return arenahard_prompt.load_arena_hard_judge(name)
    if name in wildbench_prompt.NAMES:  # WildBench's prompts, from the user's WildBench checkout
        return wildbench_prompt.load_wildbench_judge(name)
    if name in RENAMED and not (prompts_dir() / f"{name}.yaml").exists():
        new, official = RENAMED[name]
        raise InputError(
            f"judge {name!r} is now {new!r} (its prompt is judgebench's own wording)",
            field="--judge",
            hint=f"use --judge {new}, or {official}",
        )
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return load_spec(path)
    candidate = prompts_dir() / f"{name}.yaml"
    if candidate.exists():
        return load_spec(candidate)
    known = sorted(p.stem for p in prompts_dir().glob("*.yaml"))
    raise InputError(
        f"unknown judge {name!r}",
        hint=f"known: {', '.join(known)}; or a .yaml path; or alpaca_eval:CONFIG; or fastchat:single|pair",
    )


@dataclass
class JudgeEntry:
    """One judge a user can name, and where its prompt comes from."""

    name: str
    about: str  # the spec's leading comment
    spec: JudgeSpec | None  # None when listing alone failed (the reason is in `about`)
    prompt_source: str


def list_judges() -> list[JudgeEntry]:
    """The built-in judges (prompts/*.yaml, shipped in the package) and, where an alpaca-eval package is
    installed, how to name its evaluator configs."""
    entries = []
    for path in sorted(prompts_dir().glob("*.yaml")):
        about = " ".join(
            line.lstrip("# ").strip()
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.startswith("#")
        )
        try:
            spec = load_spec(path)
        except InputError as err:  # one broken spec does not hide the others
            entries.append(JudgeEntry(path.stem, f"cannot be loaded: {err}", None, str(path)))
            continue
        template = path.with_name(str(safe_yaml_load(path).get("template", "")))
        entries.append(JudgeEntry(spec.name, about, spec, f"judgebench's own wording: {template}"))
    try:
        root = package_dir() / "evaluators_configs"
        configs = (
            sorted(p.name for p in root.iterdir() if (p / "configs.yaml").exists()) if root.is_dir() else []
        )
    except InputError:
        configs = []
    if configs:
        entries.append(
            JudgeEntry(
                "alpaca_eval:CONFIG",
                f"any of the {len(configs)} evaluator configs of the installed alpaca-eval, e.g. "
                f"alpaca_eval:{'weighted_alpaca_eval_gpt4_turbo' if 'weighted_alpaca_eval_gpt4_turbo' in configs else configs[0]}",
                None,
                f"AlpacaEval's own prompts, read at run time from {root}",
            )
        )
    try:
        fastchat = prompts_file()
    except InputError:
        fastchat = None
    if fastchat is not None:
        entries.append(
            JudgeEntry(
                "fastchat:single|pair",
                "FastChat's MT-Bench judges (single-answer grading, or pairwise in both orders)",
                None,
                f"FastChat's own prompts, read at run time from {fastchat}",
            )
        )
    return entries
