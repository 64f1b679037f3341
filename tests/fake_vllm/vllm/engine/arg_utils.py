"""EngineArgs / AsyncEngineArgs: the keywords the stand-in understands (each a real field: see the tests)."""

from __future__ import annotations

from types import SimpleNamespace

# keywords of LLM(**kwargs) / AsyncEngineArgs(...) that the stand-in understands
ENGINE_KWARGS = {
    "max_model_len",
    "enable_prefix_caching",
    "max_logprobs",
    "max_num_seqs",
    "distributed_executor_backend",
    "pipeline_parallel_size",
    "disable_log_stats",
    "enable_lora",
    "max_lora_rank",
}
ASYNC_ENGINE_KWARGS = ENGINE_KWARGS | {
    "model",
    "runner",
    "tensor_parallel_size",
    "seed",
    "trust_remote_code",
    "enable_log_requests",
    "dtype",
    "quantization",
    "gpu_memory_utilization",
}
NATIVE_CONTEXT = 64  # the stand-in model's own context, used when max_model_len is not given


class EngineArgs:
    def __init__(self, **kwargs):
        unknown = set(kwargs) - ASYNC_ENGINE_KWARGS
        if unknown:
            raise TypeError(f"stand-in vllm EngineArgs: unexpected arguments {sorted(unknown)}")
        self.kwargs = kwargs

    def create_engine_config(self, usage_context=None):
        from .. import ModelConfig

        k = self.kwargs
        model = ModelConfig(
            k.get("model", ""),
            k.get("max_model_len") or NATIVE_CONTEXT,
            k.get("max_logprobs", 20),
            k.get("seed", 0),
        )
        return SimpleNamespace(
            model_config=model,
            scheduler_config=SimpleNamespace(max_num_seqs=k.get("max_num_seqs", 8)),
            parallel_config=SimpleNamespace(pipeline_parallel_size=k.get("pipeline_parallel_size", 1)),
        )


class AsyncEngineArgs(EngineArgs):
    pass
