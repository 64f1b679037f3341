"""Eval sets by file, by name from the data folder, and through `datasets` in hub layout."""

import gzip
import json

import pytest

from judgebench.benchmarks.evalsets import load_eval_set
from judgebench.files.records import InputError


def test_named_set_from_data_folder(alpaca_dir, monkeypatch):
    monkeypatch.setenv("JUDGEBENCH_DATA", str(alpaca_dir.parent))
    df = load_eval_set("alpaca_eval")
    assert len(df) == 805 and df["instruction"].is_unique
    assert set(df["dataset"]) == {"selfinstruct", "oasst", "koala", "helpful_base", "vicuna"}


def test_hub_code_path_on_a_local_copy_in_hub_layout(alpaca_dir, tmp_path):
    """`datasets.load_dataset(repo, config, split)` is the real hub call; a folder in the hub's
    layout (README with configs) stands in for the repository, as no hub is reachable here."""
    pytest.importorskip("datasets")
    repo = tmp_path / "alpaca_eval"
    repo.mkdir()
    rows = json.loads(gzip.decompress((alpaca_dir / "eval_set.json.gz").read_bytes()))
    (repo / "alpaca_eval_gpt4_baseline.json").write_text(json.dumps(rows))
    (repo / "README.md").write_text(
        "---\nconfigs:\n- config_name: alpaca_eval_gpt4_baseline\n  data_files:\n"
        "  - split: eval\n    path: alpaca_eval_gpt4_baseline.json\n---\n"
    )
    df = load_eval_set(f"hf:{repo}:alpaca_eval_gpt4_baseline:eval")
    assert len(df) == 805 and df["instruction"].tolist() == [r["instruction"] for r in rows]
    with pytest.raises(InputError, match="cannot load"):
        load_eval_set(f"hf:{repo}:no_such_config:eval")


def test_local_file_errors(tmp_path):
    p = tmp_path / "set.jsonl"
    p.write_text('{"prompt": "hello"}\n')
    with pytest.raises(InputError, match=r"row 0, field 'instruction'.*rename the prompt field"):
        load_eval_set(p)
    p.write_text('{"instruction": "a"}\n{"instruction": "a"}\n')
    with pytest.raises(InputError, match="duplicate instructions in rows \\[0, 1\\]"):
        load_eval_set(p)
    with pytest.raises(InputError, match="neither a file nor a known eval set"):
        load_eval_set("no-such-set")


@pytest.mark.parametrize("name, folder", [("mt-bench", "mtbench"), ("arena-hard-v0.1", "arenahard")])
def test_a_benchmark_missing_from_the_data_folder_says_where_it_looked(name, folder, tmp_path, monkeypatch):
    import judgebench.settings as settings
    from judgebench.errors import InputError

    monkeypatch.setattr(settings, "_data_flag", None)
    monkeypatch.delenv("JUDGEBENCH_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(InputError) as err:
        load_eval_set(name)
    text = str(err.value)
    assert (
        str(tmp_path / "judgebench" / "data" / folder) in text
        and "--data" in text
        and "JUDGEBENCH_DATA" in text
    )
