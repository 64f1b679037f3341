"""Run AlpacaEval's own judges: read an installed `alpaca-eval` package's evaluator config at run time.

    judgebench annotate --judge alpaca_eval:weighted_alpaca_eval_gpt4_turbo ...

The prompt text is AlpacaEval's and stays in their package: it is read from the user's
installation (or from `$JUDGEBENCH_ALPACA_EVAL_DIR`, the package folder), never copied here.
Supported: pairwise configs whose parser is `logprob_parser` (continuous, or binarised) with
AlpacaEval's instruction-seeded output order. Two deliberate differences from AlpacaEval, both
only where a text itself contains template syntax: the chat template is split into messages
before the texts are inserted (an output holding "<|im_start|>" cannot open a message), and the
placeholders are filled in one pass (an instruction holding "{output_2}" stays as written).
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

from judgebench.errors import ConfigError, InputError
from judgebench.judges.spec import JudgeSpec, safe_yaml_load

PLACEHOLDER = re.compile(r"\{(instruction|output_1|output_2)\}")
KNOWN_PRICES = {"gpt-4-1106-preview": {"input_per_mtok": 10.0, "output_per_mtok": 30.0}}


def package_dir() -> Path:
    env = os.environ.get("JUDGEBENCH_ALPACA_EVAL_DIR")
    if env:
        return Path(env)
    spec = importlib.util.find_spec("alpaca_eval")  # located, not imported (it imports much)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(
            "the alpaca-eval package is not installed",
            hint="pip install alpaca-eval, or set JUDGEBENCH_ALPACA_EVAL_DIR to its package folder",
        )
    return Path(list(spec.submodule_search_locations)[0])


def chatml_messages(template: str) -> list[tuple[str, str]]:
    """(role, content template) pairs of a `<|im_start|>role ... <|im_end|>` prompt."""
    out = []
    for part in template.strip().split("<|im_start|>")[1:]:
        head, _, body = part.partition("\n")
        role = head.strip().split()[0] if head.strip() else "user"
        out.append(("system" if role.startswith("system") else role, body.split("<|im_end|>", 1)[0]))
    return out


def load_alpaca_eval_judge(name: str) -> JudgeSpec:
    root = package_dir() / "evaluators_configs"
    config_file = root / name / "configs.yaml"
    if not config_file.exists():
        known = sorted(p.name for p in root.iterdir() if (p / "configs.yaml").exists())[:20]
        raise InputError(
            f"no AlpacaEval evaluator config {name!r}",
            path=config_file,
            hint=f"some known: {', '.join(known)}",
        )
    configs = safe_yaml_load(config_file)
    cfg = configs.get(name) if isinstance(configs, dict) else None
    if not isinstance(cfg, dict):
        raise ConfigError(
            f"{config_file}: field '{name}': missing or not a mapping -> the config's top-level key "
            "must be its folder's name"
        )

    def need(mapping: dict, key: str, where: str):
        if not isinstance(mapping, dict) or key not in mapping:
            raise ConfigError(
                f"{config_file}: field '{where}{key}': missing -> an AlpacaEval pairwise config "
                "with logprob_parser needs it"
            )
        return mapping[key]

    parser = cfg.get("fn_completion_parser")
    if parser != "logprob_parser":
        raise InputError(
            f"AlpacaEval parser {parser!r} is not supported yet",
            path=config_file,
            field="fn_completion_parser",
            hint="supported: logprob_parser",
        )
    kwargs = cfg.get("completion_parser_kwargs") or {}
    first = need(kwargs, "numerator_token", "completion_parser_kwargs.")
    denominators = need(kwargs, "denominator_tokens", "completion_parser_kwargs.")
    others = [t for t in denominators if t != first] if isinstance(denominators, list) else []
    if not others:
        raise ConfigError(
            f"{config_file}: field 'completion_parser_kwargs.denominator_tokens': needs a token "
            "other than the numerator_token"
        )
    second = others[0]
    prompt_template = need(cfg, "prompt_template", f"{name}.")
    template_file = (root / str(prompt_template)).resolve()
    if not template_file.is_relative_to(root.resolve()) or not template_file.is_file():
        raise ConfigError(
            f"{config_file}: field '{name}.prompt_template': {prompt_template} is not a file "
            "under evaluators_configs"
        )
    template_text = template_file.read_text(encoding="utf-8")
    parts = chatml_messages(template_text)
    completions = cfg.get("completions_kwargs") or {}
    if not isinstance(completions, dict):
        raise ConfigError(f"{config_file}: field '{name}.completions_kwargs': must be a mapping")
    completions = dict(completions)
    model = completions.pop("model_name", "gpt-4-1106-preview")
    decoding = {
        k: completions[k]
        for k in ("max_tokens", "temperature", "logprobs", "top_logprobs", "top_p")
        if k in completions
    }

    def render(instruction: str, output_first: str, output_second: str, **_) -> list[dict]:
        values = {"instruction": instruction, "output_1": output_first, "output_2": output_second}
        return [
            {"role": role, "content": PLACEHOLDER.sub(lambda m: values[m.group(1)], body).strip()}
            for role, body in parts
        ]

    return JudgeSpec(
        name=f"alpaca_eval:{name}",
        protocol="alpacaeval",
        parser="logprob_binary" if kwargs.get("is_binarize", True) else "logprob_labels",
        template_source=template_text,
        model=model,
        backend="openai",
        base_url="https://api.openai.com/v1",
        labels=(first, second),
        decoding=decoding,
        price=KNOWN_PRICES.get(model, {}),
        source=str(config_file),
        render_fn=render,
    )
