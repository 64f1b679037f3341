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

FIXES = {
    "xllamacpp": "reinstall the prebuilt wheel (.venv/bin/python -m pip install --force-reinstall -c "
    "constraints.txt xllamacpp) or compile llama.cpp here instead: JUDGEBENCH_COMPILE_LLAMA=1 scripts/setup",
    "llama-cpp-python": "rebuild it for any x86-64 host: rm .venv/.llama-cpp-build && JUDGEBENCH_COMPILE_LLAMA=1 "
    "scripts/setup (compiles llama-cpp-python with -DGGML_NATIVE=OFF)",
}


def _engine_and_fix() -> tuple[str, str]:
    from judgebench.backends.llamacpp import installed_engine

    engine = installed_engine() or "none installed"
    return f"llama.cpp via {engine}", FIXES.get(engine, "install it: scripts/setup")


def check(timeout: float = 300.0) -> tuple[bool, str]:
    """(ok, message): one short generation with the embedded model in a child process."""
    engine, fix = _engine_and_fix()
    cmd = [sys.executable, "-m", "judgebench.backends.smoke", "--child"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, (
            f"the embedded engine ({engine}) did not answer a 4-token generation in {timeout:.0f} s: "
            f"hung, or far too slow on this machine -> {fix}"
        )
    if proc.returncode == 0 and proc.stdout.startswith("ok"):
        return True, proc.stdout.strip()
    if proc.returncode < 0:
        sig = signal.Signals(-proc.returncode).name
        return False, (
            f"the embedded engine ({engine}) crashed with {sig} on its first generation: most likely "
            f"built for another CPU's instructions (a native build, or a wheel reused from a cache) -> {fix}"
        )
    last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return False, f"the embedded engine ({engine}) failed its first generation ({last}) -> {fix}"


def _child() -> None:
    from judgebench.backends.base import CompletionRequest
    from judgebench.backends.llamacpp import LlamaCppBackend

    backend = LlamaCppBackend(n_ctx=256)
    out = backend._call(CompletionRequest(messages=({"role": "user", "content": "Say hi."},), max_tokens=4))
    print(f"ok: {_engine_and_fix()[0]} answered {out.text!r} ({backend.model})")


if __name__ == "__main__":
    if "--child" in sys.argv:
        _child()
    else:
        ok, message = check()
        print(message if ok else f"judgebench setup: error: {message}", file=sys.stdout if ok else sys.stderr)
        sys.exit(0 if ok else 1)
