"""A smoke check of the embedded engine (llama.cpp + SmolLM2), run in a child process.

A native engine that was compiled for another CPU dies with SIGSEGV/SIGILL inside the first decode; in a
child process that is a message naming the engine, the likely cause and the fix, not a dead caller.
`scripts/setup` runs it last; the tests use it to fail the engine tests with a reason instead of crashing.

    python -m judgebench.backends.smoke          # exit 0 and "ok: ..." or exit 1 and the diagnosis
"""

from __future__ import annotations

import signal
import subprocess
import sys

FIX = (
    "rebuild it for any x86-64 host: rm .venv/.llama-cpp-build && scripts/setup "
    "(compiles llama-cpp-python with -DGGML_NATIVE=OFF)"
)


def check(timeout: float = 300.0) -> tuple[bool, str]:
    """(ok, message): one short generation with the embedded model in a child process."""
    cmd = [sys.executable, "-m", "judgebench.backends.smoke", "--child"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, (
            f"the embedded engine (llama.cpp) did not answer a 4-token generation in {timeout:.0f} s: "
            f"hung, or far too slow on this machine -> {FIX}"
        )
    if proc.returncode == 0 and proc.stdout.startswith("ok"):
        return True, proc.stdout.strip()
    if proc.returncode < 0:
        sig = signal.Signals(-proc.returncode).name
        return False, (
            f"the embedded engine (llama.cpp) crashed with {sig} on its first generation: most likely "
            f"built for another CPU's instructions (a native build, or a wheel reused from a cache) -> {FIX}"
        )
    last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return False, f"the embedded engine (llama.cpp) failed its first generation ({last}) -> {FIX}"


def _child() -> None:
    from judgebench.backends.base import CompletionRequest
    from judgebench.backends.llamacpp import LlamaCppBackend

    backend = LlamaCppBackend(n_ctx=256)
    out = backend._call(CompletionRequest(messages=({"role": "user", "content": "Say hi."},), max_tokens=4))
    print(f"ok: llama.cpp answered {out.text!r} ({backend.model})")


if __name__ == "__main__":
    if "--child" in sys.argv:
        _child()
    else:
        ok, message = check()
        print(message if ok else f"judgebench setup: error: {message}", file=sys.stdout if ok else sys.stderr)
        sys.exit(0 if ok else 1)
