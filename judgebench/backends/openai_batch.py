"""OpenAI's Batch API as a judge backend: half the price, results within the completion window.

Judge calls that arrive together are gathered (BatchingBackend) and sent as one batch:
1. the requests as JSONL, one {"custom_id", "method": "POST", "url": "/v1/chat/completions", "body"}
   a line, uploaded to POST {base}/files (multipart, purpose=batch);
2. POST {base}/batches {"input_file_id", "endpoint": "/v1/chat/completions", "completion_window": "24h"};
3. GET {base}/batches/{id} every `poll_seconds` until completed, failed, expired or cancelled;
4. GET {base}/files/{output_file_id}/content (and the error file): one result a line, matched by custom_id.
Each result goes back to its caller, so annotate stores it as usual. A request with no result (an
error line, an expired batch) fails on its own and is retried on the next run. Stdlib HTTP in the
batch's worker thread: nothing here is latency-bound.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid

from yarl import URL

from judgebench.backends.base import (
    BackendError,
    BatchingBackend,
    CompletionRequest,
    CompletionResponse,
    FatalBackendError,
    Limits,
)
from judgebench.backends.openai_compat import (
    FATAL_STATUS,
    OpenAICompatBackend,
    is_loopback,
    parse_chat_completion,
)

DONE = {"completed", "failed", "expired", "cancelled"}


class OpenAIBatchBackend(BatchingBackend):
    name = "openai-batch"

    def __init__(
        self,
        model: str,
        base_url: str = "https://api.openai.com/v1",
        api_key_env: str | None = None,
        poll_seconds: float = 30.0,
        max_batch: int = 50_000,
        completion_window: str = "24h",
        batch_window: float = 0.2,
        allow_key_to: tuple[str, ...] = (),
    ):
        # one request per caller, all in flight at once; a batch may take the whole completion window
        limits = Limits(concurrency=max_batch, max_retries=0, timeout=26 * 3600.0)
        super().__init__(model, limits, batch_window=batch_window, max_batch=max_batch)
        # the payloads, the key's checks and where it may go (`key_decision`), and redaction: the chat backend's
        self._payload = OpenAICompatBackend(model, base_url, api_key_env, allow_key_to=allow_key_to)
        self.base_url = self._payload.base_url
        self.poll_seconds, self.completion_window = poll_seconds, completion_window
        self.batches: list[dict] = []  # what was submitted, for the manifest

    def _http(
        self, method: str, path: str, body: bytes | None = None, content_type: str = "application/json"
    ) -> bytes:
        headers = self._payload._headers() | {"Content-Type": content_type}
        req = urllib.request.Request(f"{self.base_url}{path}", data=body, headers=headers, method=method)
        opener = (
            urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy for this machine
            if is_loopback(URL(self.base_url).host or "")
            else urllib.request.build_opener()
        )
        try:
            with opener.open(req, timeout=300) as resp:
                return resp.read()
        except urllib.error.HTTPError as err:
            text = self._payload._redact(err.read()[:300].decode("utf-8", "replace"))
            if err.code in FATAL_STATUS:
                raise FatalBackendError(
                    f"{err.code} {FATAL_STATUS[err.code]} from {self.base_url}{path}: {text}"
                ) from None
            raise BackendError(
                f"HTTP {err.code} from {self.base_url}{path}: {text}", retryable=False
            ) from None
        except (urllib.error.URLError, OSError) as err:
            raise BackendError(
                f"connection to {self.base_url}{path}: {self._payload._redact(str(err))}", retryable=False
            ) from None

    def _json(self, method: str, path: str, payload: dict | None = None) -> dict:
        return json.loads(self._http(method, path, None if payload is None else json.dumps(payload).encode()))

    def _upload(self, jsonl: bytes) -> str:
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="judgebench.jsonl"\r\n'
                "Content-Type: application/jsonl\r\n\r\n"
            ).encode()
            + jsonl
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return json.loads(self._http("POST", "/files", body, f"multipart/form-data; boundary={boundary}"))[
            "id"
        ]

    def _lines(self, file_id: str | None) -> list[dict]:
        if not file_id:
            return []
        raw = self._http("GET", f"/files/{file_id}/content").decode("utf-8")
        return [json.loads(line) for line in raw.splitlines() if line.strip()]

    def run_batch(self, requests: list[CompletionRequest]) -> list[CompletionResponse | BackendError]:
        lines = [
            json.dumps(
                {
                    "custom_id": f"r{i}",
                    "method": "POST",
                    "url": "/v1/chat/completions",
                    "body": self._payload.payload(r),
                },
                ensure_ascii=False,
            )
            for i, r in enumerate(requests)
        ]
        file_id = self._upload(("\n".join(lines) + "\n").encode("utf-8"))
        batch = self._json(
            "POST",
            "/batches",
            {
                "input_file_id": file_id,
                "endpoint": "/v1/chat/completions",
                "completion_window": self.completion_window,
            },
        )
        while batch.get("status") not in DONE:
            time.sleep(self.poll_seconds)
            batch = self._json("GET", f"/batches/{batch['id']}")
        self.batches.append(
            {
                "id": batch["id"],
                "status": batch["status"],
                "requests": len(requests),
                "input_file_id": file_id,
            }
        )
        results: dict[str, CompletionResponse | BackendError] = {}
        for line in self._lines(batch.get("output_file_id")) + self._lines(batch.get("error_file_id")):
            resp = line.get("response") or {}
            if line.get("error") or resp.get("status_code") != 200:
                results[line["custom_id"]] = BackendError(
                    f"batch {batch['id']}: {line.get('error') or resp.get('body')}"[:300], retryable=False
                )
            else:
                try:
                    results[line["custom_id"]] = parse_chat_completion(resp["body"])
                except BackendError as err:
                    results[line["custom_id"]] = err
        missing = BackendError(
            f"batch {batch['id']} ended {batch['status']} without a result for this request", retryable=False
        )
        return [results.get(f"r{i}", missing) for i in range(len(requests))]
