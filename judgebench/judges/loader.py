"""Finding a judge by name: prompts/NAME.yaml, a YAML path, or `alpaca_eval:CONFIG` from an installed
alpaca-eval. The one place that knows both spec formats, so neither module imports the other."""

from __future__ import annotations

from pathlib import Path

from judgebench.errors import InputError
from judgebench.judges.alpaca_eval_configs import load_alpaca_eval_judge
from judgebench.judges.spec import JudgeSpec, load_spec, prompts_dir


def load_judge(name: str) -> JudgeSpec:
    """By name from prompts/ (`alpacaeval2`), from a YAML path, or `alpaca_eval:CONFIG` from an
    installed alpaca-eval package."""
    if name.startswith("alpaca_eval:"):
        return load_alpaca_eval_judge(name.split(":", 1)[1])
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return load_spec(path)
    candidate = prompts_dir() / f"{name}.yaml"
    if candidate.exists():
        return load_spec(candidate)
    known = sorted(p.stem for p in prompts_dir().glob("*.yaml"))
    raise InputError(
        f"unknown judge {name!r}", hint=f"known: {', '.join(known)}; or a .yaml path; or alpaca_eval:CONFIG"
    )
