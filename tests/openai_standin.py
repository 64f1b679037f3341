"""A loopback STAND-IN for a priced OpenAI judge: chat completions plus the Files and Batches endpoints
of the Batch API, as OpenAI documents them. It exists because the paid API cannot be reached from tests;
it answers every judge protocol with a well-formed verdict and honest `usage`, and counts what it gets.

- POST /v1/chat/completions: log-prob label (when logprobs are asked), "Rating: [[7]]" (MT-Bench grading),
  else an Arena-Hard verdict "[[B>A]]"; usage.prompt_tokens = characters / 4 of the messages.
- POST /v1/files (multipart, purpose=batch) -> {"id": "file-N", ...}
- POST /v1/batches {"input_file_id", "endpoint", "completion_window"} -> {"id": "batch_N", "status": "validating"}
- GET /v1/batches/{id}: "in_progress" on the first poll, then "completed" with output_file_id
- GET /v1/files/{id}/content: the output JSONL, one {"custom_id", "response": {"status_code", "body"}} a line
"""

from __future__ import annotations

import json

from aiohttp import web
from servers import LoopbackApp


def answer(body: dict) -> dict:
    messages = body.get("messages", [])
    text_in = " ".join(m["content"] for m in messages)
    choice = {"index": 0, "finish_reason": "stop"}
    if body.get("logprobs"):
        text = "M" if len(text_in) % 2 else "m"
        other = "m" if text == "M" else "M"
        top = [{"token": text, "logprob": -0.2}, {"token": other, "logprob": -1.7}]
        choice["logprobs"] = {"content": [{"token": text, "logprob": -0.2, "top_logprobs": top}]}
    elif "Rating" in text_in:
        text = "Clear and correct. Rating: [[7]]"
    else:
        text = "Assistant B is more helpful. My final verdict is: [[B>A]]"
    choice["message"] = {"role": "assistant", "content": text}
    usage = {"prompt_tokens": len(text_in) // 4, "completion_tokens": max(1, len(text) // 4)}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return {
        "id": "chatcmpl-standin",
        "object": "chat.completion",
        "model": body.get("model"),
        "choices": [choice],
        "usage": usage,
    }


class OpenAIStandIn(LoopbackApp):
    client_max_size = 64 * 1024 * 1024

    def __init__(self, prices: dict[str, tuple[float, float]]):
        """prices: model -> (USD per million input tokens, per million output tokens)."""
        self.prices = prices
        self.chat_requests = 0
        self.batch_lines = 0
        self.cost = 0.0  # what the calls answered would have cost at the synchronous price
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict] = {}
        self.polls = 0
        super().__init__()

    def _answer(self, body: dict) -> dict:
        out = answer(body)
        u = out["usage"]
        price_in, price_out = self.prices[body["model"]]
        self.cost += (u["prompt_tokens"] * price_in + u["completion_tokens"] * price_out) / 1e6
        return out

    async def _chat(self, request: web.Request) -> web.Response:
        self.chat_requests += 1
        return web.json_response(self._answer(await request.json()))

    async def _upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("purpose") != "batch":
            return web.json_response({"error": {"message": "purpose must be batch"}}, status=400)
        content = form["file"].file.read()
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = content
        return web.json_response({"id": file_id, "object": "file", "bytes": len(content), "purpose": "batch"})

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("endpoint") != "/v1/chat/completions" or body.get("input_file_id") not in self.files:
            return web.json_response({"error": {"message": "bad batch request"}}, status=400)
        batch_id = f"batch_{len(self.batches) + 1}"
        self.batches[batch_id] = {
            "id": batch_id,
            "object": "batch",
            "status": "validating",
            "polls": 0,
            "input_file_id": body["input_file_id"],
        }
        return web.json_response({k: v for k, v in self.batches[batch_id].items() if k != "polls"})

    async def _poll(self, request: web.Request) -> web.Response:
        self.polls += 1
        batch = self.batches[request.match_info["batch_id"]]
        batch["polls"] += 1
        if batch["polls"] == 1:
            batch["status"] = "in_progress"
        elif batch["status"] != "completed":
            lines = []
            for raw in self.files[batch["input_file_id"]].decode().splitlines():
                if raw.strip():
                    req = json.loads(raw)
                    self.batch_lines += 1
                    lines.append(
                        json.dumps(
                            {
                                "id": f"req_{self.batch_lines}",
                                "custom_id": req["custom_id"],
                                "response": {"status_code": 200, "body": self._answer(req["body"])},
                                "error": None,
                            }
                        )
                    )
            out_id = f"file-{len(self.files) + 1}"
            self.files[out_id] = ("\n".join(lines) + "\n").encode()
            batch.update(status="completed", output_file_id=out_id, error_file_id=None)
        return web.json_response({k: v for k, v in batch.items() if k != "polls"})

    async def _content(self, request: web.Request) -> web.Response:
        return web.Response(body=self.files[request.match_info["file_id"]], content_type="application/jsonl")

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/files", self._upload)
        app.router.add_post("/v1/batches", self._create)
        app.router.add_get("/v1/batches/{batch_id}", self._poll)
        app.router.add_get("/v1/files/{file_id}/content", self._content)
