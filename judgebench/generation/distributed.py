"""Generation past one machine: a Ray Data job over engine replicas (the `ray` extra).

    outputs = generate_with_ray(eval_set, engine="vllm", model="meta-llama/...", sampling=Sampling(max_tokens=1024),
                                generator="ckpt-42", replicas=8, ray_address="auto", store=store)

- engine "vllm": Ray Data's LLM API (`ray.data.llm.vLLMEngineProcessorConfig` + `build_processor`; Ray
  2.60 with the vLLM its `llm` extra pins, 0.29.0), one vLLM replica per `replicas`, each with
  `tensor_parallel_size` GPUs; chat templates applied by Ray's own stage (the model's, or the one
  given); per-row sampling parameters; a row the engine refuses (e.g. a prompt over max_model_len)
  fails alone and is recorded as failed, as in-process. tests/generation/test_ray_generation.py runs this path
  through Ray's real processor and stages with the stand-in vllm package as the engine.
- engine "llamacpp": `map_batches` over actors that each hold a llama.cpp model: the same pipeline on
  CPUs, which is how it is tested here on a local Ray cluster.

Results go into the store with the same keys as in-process generation, so `evaluate` and later runs
find them cached. Single-turn sets only (a multi-turn set needs each turn's answer before the next).
"""

from __future__ import annotations

import json
from functools import partial

import pandas as pd

from judgebench.files.records import InputError
from judgebench.files.redact import redact_logs
from judgebench.generation.generate import Sampling, _messages, generation_key
from judgebench.store import Store, generation_row


class _LlamaCppReplica:
    """A Ray actor holding one llama.cpp model; generates a batch of rows one by one."""

    def __init__(self, model: str | None, sampling: dict, chat_template: str | None = None):
        from judgebench.backends.base import CompletionRequest
        from judgebench.backends.llamacpp import LlamaCppBackend

        self.backend = LlamaCppBackend(model, chat_template=chat_template)
        self.sampling = sampling
        self.request = CompletionRequest

    def __call__(self, batch: dict) -> dict:
        texts, reasons, finish, prompt_tokens, completion_tokens = [], [], [], [], []
        s = self.sampling
        for messages in batch["messages_json"]:
            req = self.request(
                tuple(json.loads(messages)), s["max_tokens"], s["temperature"], s["top_p"], seed=s["seed"]
            )
            try:
                r = self.backend._call(req)
                texts.append(r.text)
                finish.append(r.finish_reason or "")
                prompt_tokens.append(r.prompt_tokens)
                completion_tokens.append(r.completion_tokens)
                reasons.append("")
            except Exception as err:  # recorded per row, like the in-process path
                texts.append("")
                finish.append("")
                prompt_tokens.append(0)
                completion_tokens.append(0)
                reasons.append(str(err) or type(err).__name__)
        return {
            "instruction": batch["instruction"],
            "messages_json": batch["messages_json"],
            "output": texts,
            "finish_reason": finish,
            "reason": reasons,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "model_id": [self.backend.model] * len(texts),
        }


def _vllm_processor(
    model: str,
    sampling: Sampling,
    replicas: int,
    batch_size: int,
    tensor_parallel_size: int,
    engine_kwargs: dict | None,
    chat_template: str | None,
):
    """Ray Data's vLLM processor (chat template, tokenize, vLLM engine, detokenize stages), with each
    row's failure kept in its row (should_continue_on_error) rather than failing the job."""
    from ray.data.llm import build_processor, vLLMEngineProcessorConfig

    config = vLLMEngineProcessorConfig(
        model_source=model,
        concurrency=replicas,
        batch_size=batch_size,
        should_continue_on_error=True,
        engine_kwargs={
            "tensor_parallel_size": tensor_parallel_size,
            "enable_prefix_caching": True,
            **(engine_kwargs or {}),
        },
        chat_template_stage={"enabled": True, "chat_template": chat_template},
    )
    # the in-process engines' semantics: no top-k, greedy at temperature 0, an explicit max_tokens
    params = {
        "max_tokens": sampling.max_tokens,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "top_k": 0,
        "seed": sampling.seed,
    }
    return build_processor(
        config,
        preprocess=partial(_vllm_row_in, params=params),
        postprocess=partial(_vllm_row_out, model=model, max_tokens=sampling.max_tokens),
    )


def _vllm_row_in(row: dict, params: dict) -> dict:
    return {**row, "messages": json.loads(row["messages_json"]), "sampling_params": params}


def _vllm_row_out(row: dict, model: str, max_tokens: int) -> dict:
    """A processed row (or one the engine failed, with its `__inference_error__`) in the shape the llama.cpp
    replicas return. Ray's vLLM stage reports no finish reason,
    so it is told from the count: fewer tokens than max_tokens means the model stopped (an end token
    or a stop string); exactly max_tokens reads as "length", even if the last one was an end token."""
    error = row.get("__inference_error__") or ""
    n = int(row.get("num_generated_tokens") or 0)
    return {
        "instruction": row["instruction"],
        "messages_json": row["messages_json"],
        "output": "" if error else row.get("generated_text") or "",
        "finish_reason": "" if error else ("length" if n >= max_tokens else "stop"),
        "reason": error,
        "prompt_tokens": 0 if error else int(row.get("num_input_tokens") or 0),
        "completion_tokens": 0 if error else n,
        "model_id": model,
    }


def generate_with_ray(
    eval_set: pd.DataFrame,
    engine: str,
    model: str | None,
    sampling: Sampling,
    generator: str,
    replicas: int = 1,
    batch_size: int = 16,
    ray_address: str | None = None,
    store: Store | None = None,
    tensor_parallel_size: int = 1,
    engine_kwargs: dict | None = None,
    chat_template: str | None = None,
) -> pd.DataFrame:
    if "turns" in eval_set.columns:
        raise InputError(
            "Ray generation takes single-turn eval sets", hint="generate multi-turn sets in-process"
        )
    try:
        import ray
    except ImportError:
        raise InputError("Ray generation needs ray: pip install 'judgebench[ray]'") from None
    ray.init(address=ray_address, ignore_reinit_error=True, log_to_driver=False, include_dashboard=False)
    redact_logs("ray", "vllm", "judgebench")
    rows = [
        {"instruction": i, "messages_json": json.dumps(_messages(sampling, [i], []))}
        for i in eval_set["instruction"]
    ]
    ds = ray.data.from_items(rows)
    if engine == "llamacpp":
        out = ds.map_batches(
            _LlamaCppReplica,
            fn_constructor_kwargs={
                "model": model,
                "sampling": vars(sampling),
                "chat_template": chat_template,
            },
            batch_size=batch_size,
            concurrency=replicas,
            num_cpus=1,
        )
    elif engine == "vllm":
        if model is None:
            raise InputError("the vLLM Ray path needs --model (a hub name or a local folder)")
        out = _vllm_processor(
            model, sampling, replicas, batch_size, tensor_parallel_size, engine_kwargs, chat_template
        )(ds)
    else:
        raise InputError(f"engine {engine!r} has no Ray path", hint="use vllm (GPUs) or llamacpp (CPUs)")
    results = {r["instruction"]: r for r in out.take_all()}
    if engine == "vllm":  # Ray hands a row its engine failed back as it was, bypassing the postprocess
        results = {
            i: _vllm_row_out(r, str(model), sampling.max_tokens) if r.get("__inference_error__") else r
            for i, r in results.items()
        }
    records, generations = [], []
    for inst in eval_set["instruction"]:
        r = results[inst]
        if store is not None:
            messages = json.loads(r["messages_json"])
            key = generation_key(r["model_id"], sampling, messages)
            generations.append(
                generation_row(
                    {
                        "key": key,
                        "model": r["model_id"],
                        "instruction": inst,
                        "turn": 1,
                        "status": "failed" if r["reason"] else "ok",
                        "output": None if r["reason"] else r["output"],
                        "reason": r["reason"] or None,
                        "finish_reason": r["finish_reason"] or None,
                        "prompt_tokens": int(r["prompt_tokens"]),
                        "completion_tokens": int(r["completion_tokens"]),
                    }
                )
            )
        records.append(
            {
                "instruction": inst,
                "output": None if r["reason"] else r["output"],
                "generator": generator,
                **({"failure": r["reason"]} if r["reason"] else {}),
            }
        )
    if store is not None:
        store.put_generation_rows(generations)  # the whole run's results in one commit
    return pd.DataFrame(records)
