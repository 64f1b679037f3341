"""How an in-process engine loads the candidate: a LoRA adapter on a base model and vLLM's usual knobs.
Declared once, for the API and evaluate's flags.

    Checkpoint(lora="runs/adapter", max_model_len=8192, gpu_memory_utilization=0.8)

Only the settings given reach the engine (vLLM's or the checkpoint's defaults apply otherwise). vLLM takes
them all; transformers takes --lora (through peft, the `lora` extra) and --dtype; an engine given one it
does not take is a ConfigError naming the flag. A generation's cache key names the adapter: answers of the
base model are never reused for the adapted one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from judgebench.errors import ConfigError, InputError
from judgebench.settings import Checked, option

DTYPES = ("auto", "float16", "bfloat16", "float32")  # spelled so vLLM (ModelDType) and transformers take them
# vLLM 0.29.0's allowed max_lora_rank values (vllm/config/lora.py): the engine must start with room for the
# adapter's rank, and its default (16) may not have it
LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
ADAPTER_CONFIG = "adapter_config.json"  # PEFT's folder layout, which vLLM's LoRA loader reads too
# which engine takes which setting (field name -> engines)
TAKEN_BY = {
    "lora": ("vllm", "transformers"),
    "tensor_parallel_size": ("vllm",),
    "max_model_len": ("vllm",),
    "gpu_memory_utilization": ("vllm",),
    "dtype": ("vllm", "transformers"),
    "quantization": ("vllm",),
}


@dataclass(frozen=True)
class Checkpoint(Checked):
    """How the engine loads --model (vLLM; transformers takes --lora and --dtype)."""

    lora: str | None = option(
        None,
        metavar="DIR",
        help="a LoRA adapter folder (PEFT layout) applied to --model, its base model; an adapter folder given "
        "as --model names its base itself",
    )
    tensor_parallel_size: int | None = option(None, kind=int, minimum=1, help="vLLM: GPUs one engine spans")
    max_model_len: int | None = option(
        None, kind=int, minimum=1, help="vLLM: the engine's context in tokens (default: the model's)"
    )
    gpu_memory_utilization: float | None = option(
        None, kind=float, above=0, maximum=1, help="vLLM: share of each GPU's memory the engine takes"
    )
    dtype: str | None = option(
        None,
        choices=lambda: DTYPES,
        help="the weights' dtype: auto, float16, bfloat16 or float32 (default: the checkpoint's)",
    )
    quantization: str | None = option(
        None,
        metavar="METHOD",
        help="vLLM: quantization method, e.g. awq, gptq, fp8 (default: the checkpoint's)",
    )

    def given(self) -> dict:
        return {k: v for k, v in vars(self).items() if v is not None}

    def for_engine(self, engine: str) -> dict:
        """The settings given, as the engine's keyword arguments; a ConfigError for one it does not take."""
        given = self.given()
        refused = [k for k in given if engine not in TAKEN_BY[k]]
        if refused:
            flags = ", ".join("--" + k.replace("_", "-") for k in refused)
            takers = sorted({e for k in refused for e in TAKEN_BY[k]})
            raise ConfigError(
                f"{flags}: the {engine} engine does not take this; use --engine {' or '.join(takers)}"
            )
        return given


def adapter_base(folder: str | Path) -> str | None:
    """The base model an adapter folder names (None: not an adapter folder). Raises InputError for an
    adapter folder whose config is unreadable or names no base."""
    path = Path(folder) / ADAPTER_CONFIG
    if not path.is_file():
        return None
    try:
        base = json.loads(path.read_text(encoding="utf-8")).get("base_model_name_or_path")
    except (OSError, ValueError, AttributeError) as err:
        raise InputError(f"not a readable adapter config ({err})", path=path) from None
    if not base:
        raise InputError(
            "names no base model",
            path=path,
            field="base_model_name_or_path",
            hint="give the base as --model and the adapter folder as --lora",
        )
    return str(base)


def model_name(reference: str) -> str:
    """A model's name without its organisation or folder: meta-llama/Llama-3.1-8B, /models/Llama-3.1-8B
    and the hub cache's .../models--meta-llama--Llama-3.1-8B/snapshots/<commit> are all llama-3.1-8b."""
    parts = str(reference).replace("\\", "/").rstrip("/").lower().split("/")
    if len(parts) >= 3 and parts[-2] == "snapshots" and parts[-3].startswith("models--"):
        return parts[-3].split("--")[-1]
    return parts[-1]


def resolve(model: str | None, checkpoint: Checkpoint) -> tuple[str | None, Checkpoint]:
    """(base model, checkpoint with its adapter) from --model and --lora: an adapter folder given as --model
    becomes --lora on the base its config names; a --lora folder must hold an adapter config naming --model
    as its base (an adapter on another base loads wherever the shapes fit, and generates garbage)."""
    if checkpoint.lora is not None:
        base = adapter_base(checkpoint.lora)
        if base is None:
            raise InputError(
                f"--lora {checkpoint.lora}: no {ADAPTER_CONFIG} there", hint="give a PEFT adapter folder"
            )
        if model is None:
            raise InputError("--lora needs --model: the base model the adapter was trained on")
        if model_name(model) != model_name(base):
            raise InputError(
                f"the adapter was trained on {base}, not on --model {model}",
                path=Path(checkpoint.lora) / ADAPTER_CONFIG,
                field="base_model_name_or_path",
                hint=f"give --model {base} (or a local copy of it), or the adapter folder alone as --model; "
                "if the config names the base wrongly, correct it there",
            )
        return model, checkpoint
    if model is not None and not (Path(model) / "config.json").is_file():
        base = adapter_base(model)
        if base is not None:
            return base, Checkpoint(**{**checkpoint.given(), "lora": str(model)})
    return model, checkpoint


def adapter_rank(folder: str | Path) -> int:
    """The adapter's LoRA rank (PEFT's `r`), which vLLM must be started with room for."""
    return int(json.loads((Path(folder) / ADAPTER_CONFIG).read_text(encoding="utf-8")).get("r") or 0)


def lora_rank_slot(rank: int) -> int:
    """The smallest max_lora_rank vLLM takes that holds an adapter of this rank."""
    return next((r for r in LORA_RANKS if r >= rank), LORA_RANKS[-1])


def vllm_lora_settings(lora: str) -> dict:
    """The vLLM engine settings that load this adapter, the same in-process and on Ray replicas: LoRA on,
    with room for its rank. An adapter above vLLM's largest max_lora_rank is a ConfigError (vLLM would
    refuse every request with it, after loading the model)."""
    rank = adapter_rank(lora)
    if rank > LORA_RANKS[-1]:
        raise ConfigError(
            f"--lora {lora}: LoRA rank {rank} is above {LORA_RANKS[-1]}, the largest max_lora_rank vLLM "
            "takes; merge the adapter into its base and give that as --model"
        )
    return {"enable_lora": True, "max_lora_rank": lora_rank_slot(rank)}


def with_adapter(model: str, lora: str | None) -> str:
    """The model's name in generation keys and outputs: the base, and the adapter when there is one."""
    return model if lora is None else f"{model} + LoRA {Path(lora).resolve()}"
