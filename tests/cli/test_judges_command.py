"""`judgebench judges` lists every built-in judge with where its prompt comes from; `judges show` renders
the calls a judge makes for a sample pair; `--data` picks the data folder from anywhere on the line."""

from __future__ import annotations

import json
import random
from pathlib import Path

from conftest import REPO, assert_one_line_error, run_cli


def test_lists_every_spec_in_prompts_with_its_template(capsys):
    code, out, _ = run_cli(["judges", "--json"], capsys)
    assert code == 0
    listed = {e["name"]: e for e in json.loads(out)}
    on_disk = {p.stem for p in (REPO / "prompts").glob("*.yaml")}  # the source folder, not the package's view
    assert on_disk <= set(listed)
    # local and alpacaeval2 share one template; each entry names the template file its spec points to
    assert listed["local"]["prompt_source"].endswith("alpacaeval2.jinja")
    assert listed["judgebench-arena-pair"]["prompt_source"].endswith("judgebench-arena-pair.jinja")
    assert listed["local"]["backend"] == "llamacpp" and listed["alpacaeval2"]["backend"] == "openai"
    code, text, _ = run_cli(["judges"], capsys)
    assert code == 0 and all(name in text for name in on_disk)


def test_show_renders_the_sample_pair_in_the_protocols_order(capsys):
    from judgebench.cli.judges import SAMPLE_CONVERSATION, SAMPLE_PAIR

    code, out, _ = run_cli(["judges", "show", "alpacaeval2", "--json"], capsys)
    assert code == 0
    (call,) = json.loads(out)  # AlpacaEval's protocol: one call
    text = "\n".join(m["content"] for m in call["messages"])
    # AlpacaEval's order rule, computed here by hand: shown swapped iff this draw says so
    swapped = random.Random("is_switched_outputs" + SAMPLE_PAIR.instruction + "0").choices([False, True])[0]
    first, second = (
        (SAMPLE_PAIR.candidate, SAMPLE_PAIR.baseline)
        if swapped
        else (SAMPLE_PAIR.baseline, SAMPLE_PAIR.candidate)
    )
    assert SAMPLE_PAIR.instruction in text and text.index(first) < text.index(second)

    code, out, _ = run_cli(["judges", "show", "judgebench-arena-pair", "--json"], capsys)
    calls = json.loads(out)
    assert code == 0 and len(calls) == 2  # both orders
    first_shown = [
        min(("b", t.index(SAMPLE_PAIR.baseline)), ("c", t.index(SAMPLE_PAIR.candidate)), key=lambda x: x[1])[
            0
        ]
        for t in ("\n".join(m["content"] for m in c["messages"]) for c in calls)
    ]
    assert sorted(first_shown) == ["b", "c"]

    code, out, _ = run_cli(["judges", "show", "judgebench-mt-pair", "--json"], capsys)
    calls = json.loads(out)
    assert code == 0 and len(calls) == 4  # two turns x both orders
    assert any(SAMPLE_CONVERSATION.candidate_turns[1] in m["content"] for c in calls for m in c["messages"])


def test_an_unknown_judge_is_one_line_naming_the_known_ones(capsys):
    code, _, err = run_cli(["judges", "show", "no-such-judge"], capsys)
    line = assert_one_line_error(code, err, names="no-such-judge")
    assert "alpacaeval2" in line


def test_data_flag_anywhere_and_a_missing_folder_is_one_line(tmp_path, capsys, monkeypatch):
    import judgebench.settings as settings

    monkeypatch.setattr(settings, "_data_flag", None)
    code, _, err = run_cli(["--data", str(tmp_path / "nowhere"), "leaderboard"], capsys)
    assert_one_line_error(code, err, names="nowhere")
    # an empty data folder given after the command: the default annotations are missing, said with the path
    code, _, err = run_cli(["leaderboard", f"--data={tmp_path}"], capsys)
    line = assert_one_line_error(code, err, names=str(Path(tmp_path) / "alpacaeval" / "annotations"))
    assert "--data" in line
    monkeypatch.setattr(settings, "_data_flag", None)


def test_data_folder_never_depends_on_the_current_folder(tmp_path, monkeypatch):
    import judgebench.settings as settings

    monkeypatch.setattr(settings, "_data_flag", None)
    monkeypatch.delenv("JUDGEBENCH_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    assert settings.data_dir() == tmp_path / "cache" / "judgebench" / "data"
    monkeypatch.setenv("JUDGEBENCH_DATA", "rel/data")
    assert settings.data_dir() == (tmp_path / "rel" / "data").resolve()  # resolved once, where it was set
