"""The tokens-per-minute limit is kept, on a fake clock (no wall-time asserts): calls start when the token
bucket's arithmetic says they may, and no minute ever carries more than the limit plus one burst."""

import asyncio
import types

import pytest

from judgebench.backends import base
from judgebench.backends.base import Backend, CompletionRequest, CompletionResponse, Limits


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float, result=None):
        # at least a nanosecond: a wait of 1e-16 s added to t=100 s would leave the clock where it was
        self.now += max(seconds, 1e-9)
        await asyncio.sleep(0)  # the real one: let the other tasks run
        return result


class Recorder(Backend):
    """Records when the limiter lets each call go (the fake clock at the moment its tokens are granted:
    a fake sleep moves the clock at once, so a later stamp inside `_complete` could read another task's wait)."""

    name = "recorder"

    def __init__(self, clock, limits):
        super().__init__("m", limits)
        self.clock, self.starts, self.calls = clock, [], 0
        if self._tokens is not None:
            take = self._tokens.take

            async def granted(n):
                await take(n)
                self.starts.append((self.clock.now, n))

            self._tokens.take = granted

    async def _complete(self, request):
        self.calls += 1
        return CompletionResponse("ok")


@pytest.fixture
def clock(monkeypatch):
    c = FakeClock()
    monkeypatch.setattr(base, "time", types.SimpleNamespace(monotonic=c.monotonic))
    fake_asyncio = types.SimpleNamespace(
        **{k: getattr(asyncio, k) for k in dir(asyncio) if not k.startswith("_")}
    )
    fake_asyncio.sleep = c.sleep
    monkeypatch.setattr(base, "asyncio", fake_asyncio)
    return c


def _request(tokens: int) -> CompletionRequest:
    # estimated tokens = characters / 4 of the messages + max_tokens
    return CompletionRequest(messages=({"role": "user", "content": "abcd" * (tokens - 5)},), max_tokens=5)


def _run(backend, requests):
    async def go():
        return await asyncio.gather(*(backend.complete(r) for r in requests))

    return asyncio.run(go())


def test_calls_start_when_the_bucket_has_their_tokens(clock):
    # 600 tokens a minute = 10 a second, a burst of one second's worth (10); each call takes 5
    backend = Recorder(clock, Limits(concurrency=4, tokens_per_minute=600))
    _run(backend, [_request(5) for _ in range(12)])
    starts = [t for t, _ in backend.starts]
    # by hand: two calls from the full bucket at t=0, then one every 5/10 s
    expected = [0.0, 0.0] + [0.5 * k for k in range(1, 11)]
    assert starts == pytest.approx(expected, abs=1e-6)


def test_no_minute_carries_more_than_the_limit(clock):
    tpm = 1200  # 20 a second, bursts of 20
    backend = Recorder(clock, Limits(concurrency=8, tokens_per_minute=tpm))
    sizes = [7, 13, 5, 20, 9, 11, 6, 15] * 40  # 2,576 tokens: more than two minutes' worth
    _run(backend, [_request(n) for n in sizes])
    assert sorted(n for _, n in backend.starts) == sorted(sizes) and backend.calls == len(sizes)
    times = [t for t, _ in backend.starts]
    total = sum(sizes)
    # the whole run cannot be quicker than the rate allows (after the first burst), nor much slower
    assert (total - 20) / 20 <= times[-1] <= (total - 20) / 20 + 1.0
    for t0 in times:  # every 60-second window starting at a call
        in_window = sum(n for t, n in backend.starts if t0 <= t < t0 + 60)
        assert in_window <= tpm + 20, (t0, in_window)


def test_without_a_limit_nothing_waits(clock):
    backend = Recorder(clock, Limits(concurrency=4))
    _run(backend, [_request(500) for _ in range(10)])
    assert backend.calls == 10 and clock.now == 0.0
