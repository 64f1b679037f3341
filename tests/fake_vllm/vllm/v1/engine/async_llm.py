"""AsyncLLM (vllm.AsyncLLMEngine): what Ray Data's vLLM stage drives, on the stand-in's one engine."""

from __future__ import annotations

from ...usage.usage_lib import UsageContext


class AsyncLLM:
    def __init__(self, engine, engine_kwargs: dict | None = None):
        self.engine = engine
        self.engine_kwargs = engine_kwargs or {}  # what it was started with (LoRA on, max_lora_rank)

    @classmethod
    def from_engine_args(
        cls, engine_args, start_engine_loop=True, usage_context=UsageContext.ENGINE_CONTEXT, stat_loggers=None
    ):
        from ... import STEP_SECONDS, Engine

        config = engine_args.create_engine_config().model_config
        return cls(Engine(config, step_seconds=STEP_SECONDS), engine_args.kwargs)

    async def generate(
        self,
        prompt,
        sampling_params,
        request_id,
        *,
        prompt_text=None,
        lora_request=None,
        tokenization_kwargs=None,
        trace_headers=None,
        priority=0,
        data_parallel_rank=None,
        session_id=None,
        reasoning_ended=None,
        reasoning_parser_kwargs=None,
    ):
        from ... import check_lora
        from ..._model import Tokenizer

        if lora_request is not None:
            check_lora(self.engine_kwargs, lora_request)
        if "prompt_token_ids" in prompt:
            ids, text = list(prompt["prompt_token_ids"]), prompt_text or ""
        else:
            ids, text = Tokenizer().encode(prompt["prompt"]), prompt["prompt"]
        (output,) = self.engine.run([ids], [sampling_params], [text])
        output.request_id = request_id
        yield output

    async def do_log_stats(self):
        pass

    def shutdown(self, timeout=None):
        pass
