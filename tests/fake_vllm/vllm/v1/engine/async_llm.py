"""AsyncLLM (vllm.AsyncLLMEngine): what Ray Data's vLLM stage drives, on the stand-in's one engine."""

from __future__ import annotations

from ...usage.usage_lib import UsageContext


class AsyncLLM:
    def __init__(self, engine):
        self.engine = engine

    @classmethod
    def from_engine_args(
        cls, engine_args, start_engine_loop=True, usage_context=UsageContext.ENGINE_CONTEXT, stat_loggers=None
    ):
        from ... import STEP_SECONDS, Engine

        return cls(Engine(engine_args.create_engine_config().model_config, step_seconds=STEP_SECONDS))

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
        from ..._model import Tokenizer

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
