"""Generation past one machine: a Ray Data job over engine replicas (the `ray` extra).

    outputs = generate_with_ray(eval_set, engine="vllm", model="meta-llama/...", sampling=Sampling(max_tokens=1024),
                                generator="ckpt-42", replicas=8, ray_address="auto", store=store)

- engine "vllm": Ray Data's LLM API (`ray.data.llm.vLLMEngineProcessorConfig` + `build_processor`; Ray
  2.60 with the vLLM its `llm` extra pins, 0.29.0), one vLLM replica per `replicas`, each with
  `tensor_parallel_size` GPUs. The same request as in-process `LLM.chat`: the prompt is built here as
  vLLM's chat path builds it (the chat template rendered to text, then tokenized without adding special
  tokens: the template writes BOS itself, and Ray's tokenize stage, which adds one, is off), so both
  paths send the same token ids under the same cache key. Finish reasons follow backends/finish.py
  (Ray's rows carry none): a reply whose last token is not an end id was cut, at max_tokens or at the
  context. Rows per batch and batches in flight are sized so each replica keeps its engine's capacity
  busy (see engine_batching). A row the engine refuses (a prompt over max_model_len) fails alone and is
  recorded as failed, as in-process. A LoRA adapter (`lora`) loads as Ray Data's LLM API loads one
  (ray 2.60.0, vllm_engine_stage._maybe_get_lora_request): each row names the adapter folder in its `model`
  column, which differs from the processor's model_source, so the stage makes a LoRARequest with that
  folder as its path (no dynamic_lora_loading_path: a local folder, which every node must see at the same
  path); the engine gets the in-process engine's LoRA settings (checkpoint.vllm_lora_settings).
  tests/generation/test_ray_generation.py runs this path through Ray's real processor and stages with the
  stand-in vllm package as the engine.
- engine "llamacpp": `map_batches` over actors that each hold a llama.cpp model: the same pipeline on
  CPUs, which is how it is tested here on a local Ray cluster.

Results go into the store with the same keys as in-process generation, so `evaluate` and later runs
find them cached. Single-turn sets only (a multi-turn set needs each turn's answer before the next).
"""

from __future__ import annotations

import json
import math
from functools import partial
from pathlib import Path

import pandas as pd

from judgebench.backends.checkpoint import vllm_lora_settings, with_adapter
from judgebench.backends.finish import end_ids, finish_reason
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


# vLLM 0.29.0's largest default max_num_seqs (H100/H200/B200 class GPUs; 256 on smaller ones): the
# sequences one engine runs at once unless engine_kwargs say. Sizing for more than the engine takes only
# queues rows (Ray holds at most ~1.1 x the real max_num_seqs pending per engine).
VLLM_DEFAULT_MAX_NUM_SEQS = 1024
RAY_BATCH = 64  # rows per batch: Ray's advice is at least 32; small enough to spread a short eval set


def engine_batching(
    engine_kwargs: dict | None, rows: int, replicas: int, batch_size: int | None = None
) -> tuple[int, int]:
    """(rows per batch, batches in flight per replica) so that each replica has as many sequences in
    flight as its engine runs at once (max_num_seqs x pipeline stages), never more than its share of rows."""
    kw = engine_kwargs or {}
    capacity = int(kw.get("max_num_seqs") or VLLM_DEFAULT_MAX_NUM_SEQS) * int(
        kw.get("pipeline_parallel_size") or 1
    )
    share = max(1, math.ceil(rows / max(1, replicas)))
    size = batch_size or min(RAY_BATCH, share)
    return size, max(1, math.ceil(min(capacity, share) / size))


class _ChatPrompt:
    """A Ray actor: each row's prompt token ids as vLLM's `LLM.chat` makes them (the chat template rendered
    to text, then tokenized with add_special_tokens=False), and the ids that end a reply (the tokenizer's
    and the generation config's, the ones vLLM stops on)."""

    def __init__(self, model: str, chat_template: str | None):
        from transformers import AutoTokenizer, GenerationConfig

        self.tokenizer = AutoTokenizer.from_pretrained(model)
        try:
            configured = GenerationConfig.from_pretrained(model).eos_token_id
        except OSError:  # no generation_config.json: the tokenizer's end id alone
            configured = None
        self.end_ids = sorted(end_ids(self.tokenizer.eos_token_id, configured))
        self.chat_template = chat_template

    def __call__(self, batch: dict) -> dict:
        texts = [
            self.tokenizer.apply_chat_template(
                json.loads(m), tokenize=False, add_generation_prompt=True, chat_template=self.chat_template
            )
            for m in batch["messages_json"]
        ]
        ids = self.tokenizer(texts, add_special_tokens=False)["input_ids"]
        return {**batch, "prompt": texts, "tokenized_prompt": ids, "end_ids": [self.end_ids] * len(texts)}


def _vllm_config(
    model: str,
    replicas: int,
    batching: tuple[int, int],
    tensor_parallel_size: int,
    engine_kwargs: dict | None,
    lora: str | None = None,
):
    """Ray Data's vLLM processor config: vLLM engine and detokenize stages (the prompt comes tokenized from
    _ChatPrompt), each row's failure kept in its row (should_continue_on_error) rather than failing the
    job; with an adapter, the engine starts with LoRA on and room for its rank."""
    from ray.data.llm import vLLMEngineProcessorConfig

    batch_size, in_flight = batching
    return vLLMEngineProcessorConfig(
        model_source=model,
        concurrency=replicas,
        batch_size=batch_size,
        max_concurrent_batches=in_flight,
        should_continue_on_error=True,
        engine_kwargs={
            "tensor_parallel_size": tensor_parallel_size,
            "enable_prefix_caching": True,
            **(engine_kwargs or {}),
            **(vllm_lora_settings(lora) if lora is not None else {}),
        },
        chat_template_stage=False,
        tokenize_stage=False,
    )


def _vllm_processor(config, sampling: Sampling, model_id: str, lora: str | None):
    """Ray Data's vLLM processor over rows from _ChatPrompt; `model_id` names the model (and adapter) in
    the rows it returns, as in-process generation names it in the cache keys."""
    from ray.data.llm import build_processor

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
        preprocess=partial(_vllm_row_in, params=params, lora=lora),
        postprocess=partial(_vllm_row_out, model=model_id),
    )


def _vllm_row_in(row: dict, params: dict, lora: str | None = None) -> dict:
    """A row for the vLLM stage; with an adapter, its folder as the row's `model` (Ray's LoRA request)."""
    adapter = {"model": str(Path(lora).resolve())} if lora is not None else {}
    return {**row, "sampling_params": params, **adapter}


def _vllm_row_out(row: dict, model: str) -> dict:
    """A processed row (or one the engine failed, with its `__inference_error__`) in the shape the llama.cpp
    replicas return. Ray's vLLM stage reports no finish reason: a reply that ends on an end id stopped,
    any other was cut (at max_tokens or the context), as backends/finish.py and vLLM have it."""
    error = row.get("__inference_error__") or ""
    tokens = row.get("generated_tokens")
    last = int(tokens[-1]) if tokens is not None and len(tokens) else None
    ended = last is not None and last in {int(t) for t in row.get("end_ids", [])}
    n = int(row.get("num_generated_tokens") or 0)
    return {
        "instruction": row["instruction"],
        "messages_json": row["messages_json"],
        "output": "" if error else row.get("generated_text") or "",
        "finish_reason": "" if error else finish_reason(ended),
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
    batch_size: int | None = None,
    ray_address: str | None = None,
    store: Store | None = None,
    tensor_parallel_size: int = 1,
    engine_kwargs: dict | None = None,
    chat_template: str | None = None,
    lora: str | None = None,
) -> pd.DataFrame:
    """`lora`: a LoRA adapter folder on `model` (vLLM only); its answers are keyed by base and adapter."""
    if "turns" in eval_set.columns:
        raise InputError(
            "Ray generation takes single-turn eval sets", hint="generate multi-turn sets in-process"
        )
    if lora is not None:  # refused before a cluster starts
        if engine != "vllm":
            raise InputError(f"a LoRA adapter on Ray replicas needs the vllm engine, not {engine}")
        vllm_lora_settings(lora)
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
    model_id = with_adapter(str(model), lora)  # the vLLM rows' name for it (llama.cpp's replicas name theirs)
    if engine == "llamacpp":
        out = ds.map_batches(
            _LlamaCppReplica,
            fn_constructor_kwargs={
                "model": model,
                "sampling": vars(sampling),
                "chat_template": chat_template,
            },
            batch_size=batch_size or 16,
            concurrency=replicas,
            num_cpus=1,
        )
    elif engine == "vllm":
        if model is None:
            raise InputError("the vLLM Ray path needs --model (a hub name or a local folder)")
        batching = engine_batching(engine_kwargs, len(rows), replicas, batch_size)
        prompts = ds.map_batches(
            _ChatPrompt,
            fn_constructor_kwargs={"model": model, "chat_template": chat_template},
            batch_size=batching[0],
            concurrency=replicas,
            num_cpus=1,
        )
        config = _vllm_config(model, replicas, batching, tensor_parallel_size, engine_kwargs, lora)
        out = _vllm_processor(config, sampling, model_id, lora)(prompts)
    else:
        raise InputError(f"engine {engine!r} has no Ray path", hint="use vllm (GPUs) or llamacpp (CPUs)")
    results = {r["instruction"]: r for r in out.take_all()}
    if engine == "vllm":  # Ray hands a row its engine failed back as it was, bypassing the postprocess
        results = {
            i: _vllm_row_out(r, model_id) if r.get("__inference_error__") else r for i, r in results.items()
        }
    records, generations, truncated = [], [], 0
    for inst in eval_set["instruction"]:
        r = results[inst]
        truncated += r["finish_reason"] == "length" and not r["reason"]
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
    frame = pd.DataFrame(records)
    frame.attrs["truncated"] = truncated  # answers cut at max_tokens or the context
    return frame
