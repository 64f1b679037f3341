"""Trust boundaries: where the API key goes, hostile judge specs, bounded resources, safe names, safe writes.

The HTTP server here is a stand-in (aiohttp, loopback), named as such: it exists to record the headers it
receives and to answer what no real server does on demand (a 401 quoting the key, redirects).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest
from aiohttp import web
from conftest import assert_one_line_error, run_cli
from servers import LoopbackApp, annotate_argv, annotate_pair, pair_files

from judgebench.annotation.pipeline import KeyAccess
from judgebench.backends.openai_compat import OpenAICompatBackend, is_loopback, key_decision
from judgebench.errors import ConfigError, FatalBackendError, StoreError
from judgebench.files.atomic import atomic_write, atomic_writer, check_output_file, manifest_path

SECRET = "sk-trust-" + "Q7" * 20


class RecordingServer(LoopbackApp):
    """Stand-in OpenAI-compatible server recording each request's path and Authorization header.
    mode: "ok" (a verdict), "echo401" (a 401 whose body quotes the Authorization header), "redirect" (307 to
    `redirect_to`, once per request path), "same_origin" (307 to /v2/chat/completions on itself), "echo200"
    (a verdict whose text quotes the Authorization header)."""

    def __init__(self, mode: str = "ok", redirect_to: str | None = None, host: str = "127.0.0.1"):
        self.mode, self.redirect_to = mode, redirect_to
        self.seen: list[tuple[str, str | None]] = []
        super().__init__(host)

    async def _handle(self, request: web.Request) -> web.Response:
        await request.read()
        auth = request.headers.get("Authorization")
        self.seen.append((request.path, auth))
        if self.mode == "echo401":
            return web.json_response(
                {"error": {"message": f"Incorrect API key provided: {auth}"}}, status=401
            )
        if self.mode == "redirect":
            raise web.HTTPTemporaryRedirect(self.redirect_to)
        if self.mode == "same_origin" and request.path == "/v1/chat/completions":
            raise web.HTTPTemporaryRedirect("/v2/chat/completions")
        content = f"m (you sent {auth})" if self.mode == "echo200" else "m"
        choice = {
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "length",
            "logprobs": {
                "content": [
                    {
                        "token": "m",
                        "logprob": -0.1,
                        "top_logprobs": [{"token": "m", "logprob": -0.1}, {"token": "M", "logprob": -2.4}],
                    }
                ]
            },
        }
        return web.json_response(
            {"choices": [choice], "usage": {"prompt_tokens": 10, "completion_tokens": 1}}
        )

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self._handle)
        app.router.add_post("/v2/chat/completions", self._handle)


def _own_lan_address() -> str | None:
    """This machine's address on its main interface (no packet is sent), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if is_loopback(address) else address


# 1. Keys go only where the user meant ------------------------------------------------------------


@pytest.mark.parametrize(
    "host, local",
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("localhost", True),
        ("[::1]", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("[::ffff:127.0.0.1]", True),
        ("[::ffff:7f00:1]", True),
        ("0.0.0.0", True),
        ("128.0.0.1", False),
        ("10.0.0.1", False),
        ("[::ffff:10.0.0.1]", False),
        ("api.openai.com", False),
        ("127.0.0.1.evil.com", False),
        ("localhost.evil", False),
    ],
)
def test_loopback_is_recognised_in_every_spelling_and_only_then(host, local):
    assert is_loopback(host) is local


@pytest.mark.parametrize(
    "url, env, allow, sent",
    [
        ("https://api.openai.com/v1", None, (), True),  # the documented host, over https
        ("http://api.openai.com/v1", None, (), False),  # plain http off this machine
        ("https://api.openai.com.evil.io/v1", None, (), False),  # a look-alike host
        ("https://collector.example/v1", None, (), False),  # a shared spec's host
        ("https://collector.example/v1", None, ("collector.example",), True),
        ("http://[::ffff:127.0.0.1]:18081/v1", None, (), False),  # local server, key not given for it
        ("http://[::ffff:127.0.0.1]:18081/v1", "MY_LOCAL_KEY", (), True),  # ... given for it
        ("http://localhost:8080/v1", None, ("localhost",), True),
        ("https://api.together.xyz/v1", "TOGETHER_API_KEY", (), True),
        ("https://api.openai.com/v1", "TOGETHER_API_KEY", (), False),  # a key is not sent to another provider
    ],
)
def test_key_decision(url, env, allow, sent):
    assert key_decision(url, env, allow)[0] is sent


def test_a_shared_specs_host_gets_no_key_and_is_named_in_a_warning(monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    backend = OpenAICompatBackend("m", base_url="https://collector.example/v1")
    assert "Authorization" not in backend._headers()
    err = capsys.readouterr().err
    assert "collector.example" in err and "--allow-key-to collector.example" in err and SECRET not in err
    allowed = OpenAICompatBackend(
        "m", base_url="http://collector.example/v1", allow_key_to=("collector.example",)
    )
    assert allowed._headers()["Authorization"] == f"Bearer {SECRET}"
    assert "plain http" in capsys.readouterr().err


def test_a_local_server_receives_the_key_only_when_given_for_it(tmp_path, monkeypatch):

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("JB_LOCAL_KEY", SECRET + "-local")
    cand, base = pair_files(tmp_path, 2)
    with RecordingServer() as server:
        for url in (server.base_url, server.base_url.replace("127.0.0.1", "localhost")):
            annotate_pair(
                cand, base, tmp_path / f"s{len(server.seen)}.sqlite", judge="alpacaeval2", base_url=url
            )
        assert len(server.seen) == 4 and all(auth is None for _, auth in server.seen)
        annotate_pair(
            cand,
            base,
            tmp_path / "explicit.sqlite",
            judge="alpacaeval2",
            base_url=server.base_url,
            key=KeyAccess(api_key_env="JB_LOCAL_KEY"),
        )
        assert [auth for _, auth in server.seen[4:]] == [f"Bearer {SECRET}-local"] * 2


def test_plain_http_off_this_machine_gets_no_key_without_the_flag(tmp_path, monkeypatch):

    address = _own_lan_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address")
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    cand, base = pair_files(tmp_path, 2)
    with RecordingServer(host=address) as server:
        annotate_pair(cand, base, tmp_path / "a.sqlite", judge="alpacaeval2", base_url=server.base_url)
        assert [auth for _, auth in server.seen] == [None, None]
        annotate_pair(
            cand,
            base,
            tmp_path / "b.sqlite",
            judge="alpacaeval2",
            base_url=server.base_url,
            key=KeyAccess(allow_key_to=(address,)),
        )
        assert [auth for _, auth in server.seen[2:]] == [f"Bearer {SECRET}"] * 2


def test_a_key_echoed_in_a_401_is_never_printed(tmp_path, capfd, monkeypatch):
    monkeypatch.setenv("JB_KEY", SECRET)
    cand, base = pair_files(tmp_path, 2)
    with RecordingServer(mode="echo401") as server:
        code, out, err = run_cli(
            annotate_argv(
                cand,
                base,
                tmp_path / "s.sqlite",
                tmp_path / "a.json",
                base_url=server.base_url,
                extra=("--api-key-env", "JB_KEY"),
            ),
            capfd,  # file-descriptor level: whatever reaches the terminal, not only sys.stderr
        )
        assert server.seen and server.seen[0][1] == f"Bearer {SECRET}"  # the key did reach it ...
    assert code == 3 and "401" in err
    assert SECRET not in err + out and "[REDACTED]" in err  # ... and is not shown
    assert "Traceback" not in err


def test_cross_origin_redirect_is_refused_and_nothing_reaches_the_other_origin(tmp_path, monkeypatch):

    monkeypatch.setenv("JB_KEY", SECRET)
    cand, base = pair_files(tmp_path, 2)
    with (
        RecordingServer() as elsewhere,
        RecordingServer(mode="redirect", redirect_to=f"{elsewhere.base_url}/chat/completions") as server,
    ):
        with pytest.raises(FatalBackendError, match="another origin"):
            annotate_pair(
                cand,
                base,
                tmp_path / "s.sqlite",
                judge="alpacaeval2",
                base_url=server.base_url,
                key=KeyAccess(api_key_env="JB_KEY"),
            )
        assert server.seen and elsewhere.seen == []


def test_same_origin_redirect_is_followed_and_the_manifest_names_the_url_used(tmp_path):

    cand, base = pair_files(tmp_path, 2)
    with RecordingServer(mode="same_origin") as server:
        run = annotate_pair(cand, base, tmp_path / "s.sqlite", judge="alpacaeval2", base_url=server.base_url)
        assert {path for path, _ in server.seen} == {"/v1/chat/completions", "/v2/chat/completions"}
    assert run.summary["succeeded"] == 2
    assert run.manifest["endpoint_used"] == f"http://127.0.0.1:{server.port}/v2/chat/completions"


def test_redaction_covers_key_shapes_and_the_environment(monkeypatch):
    from judgebench.files.redact import redact

    monkeypatch.setenv("SOME_SERVICE_TOKEN", "plain-words-but-secret-42")
    text = redact(
        "Bearer abc.def sk-proj-" + "x1" * 15 + " https://u:pw@h/x?api_key=zz token plain-words-but-secret-42"
    )
    assert "abc.def" not in text and "x1x1" not in text and "pw@" not in text and "zz" not in text
    assert "plain-words-but-secret-42" not in text
    assert redact("skipping_the_ordinary_words_here") == "skipping_the_ordinary_words_here"


# 2. Bounded resources ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "{{ 9**(9**9) }}",
        "{{ 'x' * 10**10 }}",
        "{{ [0] * 10**9 }}",
        "{{ 'x'|center(10**9) }}",
        "{{ 'x'.ljust(10**9) }}",
        "{{ '%0999999999d' % 1 }}",
        "{{ '{:>999999999}'.format(1) }}",
        "{{ (10**3000) * (10**3000) * (10**3000) }}",
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{% for i in range(1000) %}{{ instruction }}{% endfor %}",
    ],
)
def test_template_bombs_fail_at_once_with_one_line(body):
    from judgebench.judges.spec import JudgeSpec

    spec = JudgeSpec(
        "bomb",
        "alpacaeval",
        "logprob_labels",
        "{% block user %}" + body + "{% endblock %}",
        "m",
        source="bomb.yaml",
    )
    outcome = []

    def render():
        try:
            spec.render(instruction="x" * 5000, output_first="a", output_second="b")
            outcome.append("rendered")
        except Exception as err:  # noqa: BLE001 (the assertion below says which)
            outcome.append(err)

    worker = threading.Thread(
        target=render, daemon=True
    )  # a hang fails the test instead of stalling the suite
    worker.start()
    worker.join(60)
    assert outcome, "rendering did not stop within 60 s"
    assert isinstance(outcome[0], ConfigError) and "bomb.yaml: field 'template'" in str(outcome[0]), outcome


def test_ordinary_template_arithmetic_still_works():
    from judgebench.judges.spec import JudgeSpec

    spec = JudgeSpec(
        "t",
        "alpacaeval",
        "logprob_labels",
        "{% block user %}{{ 2**10 }} {{ 'ab' * 3 }} {{ '%5d' % 7 }} {{ instruction|upper }}{% endblock %}",
        "m",
    )
    assert spec.render(instruction="q")[0]["content"] == "1024 ababab     7 Q"


def _spec_dir(tmp: Path, yaml_text: str) -> Path:
    (tmp / "t.jinja").write_text("{% block user %}{{ instruction }}{% endblock %}")
    (tmp / "bad.yaml").write_text(yaml_text)
    return tmp / "bad.yaml"


GOOD = "name: t\ntemplate: t.jinja\nprotocol: alpacaeval\nparser: logprob_labels\nmodel: m\n"
LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    "text, field",
    [
        ("just a string\n", "a YAML mapping"),
        ("- a\n- list\n", "a YAML mapping"),
        ("", "a YAML mapping"),
        (GOOD + "labels: m\n", "field 'labels'"),
        (GOOD + "labels: [m, m]\n", "field 'labels'"),
        (GOOD + "decoding: 3\n", "field 'decoding'"),
        (GOOD + "decoding: {max_tokens: many}\n", "decoding.max_tokens"),
        (GOOD + "decoding: {temprature: 1}\n", "unknown setting"),
        (GOOD + "price: {input_per_mtok: free}\n", "price."),
        (GOOD.replace("model: m", "model: [m]"), "field 'model'"),
        (GOOD.replace("template: t.jinja", "template: ../../x"), "outside the spec's folder"),
        (GOOD + LAUGHS.replace("\n", "\n  ").replace("a: &a", "decoding:\n  a: &a", 1), "alias"),
        (GOOD + "parser_kwargs: " + "[" * 5000 + "]" * 5000 + "\n", "bad.yaml"),
    ],
)
def test_bad_judge_specs_are_config_errors_naming_file_and_field(tmp_path, text, field):
    from judgebench.judges.spec import load_spec

    with pytest.raises(ConfigError) as err:
        load_spec(_spec_dir(tmp_path, text))
    assert "bad.yaml" in str(err.value) and field in str(err.value) and "\n" not in str(err.value)


def test_bad_spec_through_the_cli_is_one_line(tmp_path, capsys):
    cand, base = pair_files(tmp_path, 2)
    spec = _spec_dir(tmp_path, GOOD + "decoding:\n  " + LAUGHS.replace("\n", "\n  "))
    argv = annotate_argv(
        cand, base, tmp_path / "s.sqlite", tmp_path / "a.json", extra=("--judge", str(spec), "--offline")
    )
    code, _, err = run_cli(argv, capsys)
    assert_one_line_error(code, err, codes=(2,), names="alias")


def test_alpaca_eval_config_with_a_missing_key_names_it(tmp_path, monkeypatch):
    from judgebench.judges import load_judge

    folder = tmp_path / "evaluators_configs" / "mine"
    folder.mkdir(parents=True)
    (folder / "configs.yaml").write_text(
        "mine:\n  fn_completion_parser: logprob_parser\n  prompt_template: p.txt\n"
        "  completion_parser_kwargs: {denominator_tokens: [m, M]}\n"
    )
    monkeypatch.setenv("JUDGEBENCH_ALPACA_EVAL_DIR", str(tmp_path))
    with pytest.raises(
        ConfigError, match=r"configs.yaml: field 'completion_parser_kwargs.numerator_token': missing"
    ):
        load_judge("alpaca_eval:mine")


def test_detector_memory_is_linear_in_rows(alpaca_dir):
    """20k similar real outputs: the old all-pairs similarity needed 3.2 GB for one dense 20k x 20k block."""
    from judgebench.files.records import load_outputs
    from judgebench.stats.cheating import detect

    real = load_outputs(alpaca_dir / "model_outputs" / "Mistral-7B-Instruct-v0.2.json.gz")
    rows = pd.concat([real] * 25, ignore_index=True).head(20_000)
    rows["instruction"] = [f"{t} (#{i})" for i, t in enumerate(rows["instruction"])]
    tracemalloc.start()
    result = detect(rows)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1.0e9, f"peak {peak / 1e9:.2f} GB"
    # 25 copies of each output: groups of 25 (0.125%), well under the 10% threshold; outputs still on topic
    assert result["checks"]["near_identical"]["evidence"]["largest_group"] >= 25
    assert not result["checks"]["near_identical"]["flagged"]
    assert result["checks"]["unrelated"]["evidence"]["sampled_outputs"] == 2000


def test_sampled_checks_agree_with_exact_ones_on_the_shared_data(alpaca_dir, monkeypatch):
    """With sampling forced on 805 outputs, the flags are unchanged and the AUC is within its stated error."""
    import judgebench.stats.cheating as d
    from judgebench.files.records import load_outputs

    exact = {}
    files = sorted((alpaca_dir / "model_outputs").glob("*.json.gz"))
    for f in files:
        exact[f.name] = d.detect(load_outputs(f))
    monkeypatch.setattr(d, "EXACT_UP_TO", 300)
    monkeypatch.setattr(d, "SAMPLED", 300)
    for f in files:
        sampled = d.detect(load_outputs(f))
        assert sampled["flagged"] == exact[f.name]["flagged"] == (f.name == "NullModel.json.gz")
        se = sampled["checks"]["unrelated"]["evidence"]["standard_error_at_most"]
        assert (
            abs(sampled["checks"]["unrelated"]["metric"] - exact[f.name]["checks"]["unrelated"]["metric"])
            < 4 * se
        )


# 3. Safe names -------------------------------------------------------------------------------------


HOSTILE = ["llama-$\\foo$-7b", "gpt-4 ($20 plan)", "evil\x1b]0;pwned\x07\x1b[2J|model\n# heading"]


def _board() -> pd.DataFrame:
    from judgebench.leaderboard.board import ALPACAEVAL_COLUMNS, EXTRA_COLUMNS

    board = pd.DataFrame(index=HOSTILE, columns=ALPACAEVAL_COLUMNS + EXTRA_COLUMNS, dtype=float)
    for col, value in (
        ("length_controlled_winrate", 40.0),
        ("win_rate", 35.0),
        ("discrete_win_rate", 35.0),
        ("n_total", 805),
        ("n_missing", 0),
        ("avg_length", 1500),
    ):
        board[col] = value
    board["cheating_flags"] = ""
    return board


def test_hostile_names_render_literally_in_charts_terminal_and_markdown(tmp_path):
    from judgebench.report import render_markdown, write_report
    from judgebench.report.text import render_text

    page = write_report(tmp_path / "r.html", board=_board(), title="t").read_text()
    assert "$20 plan" in page and "$\\foo$" in page  # as written, not typeset
    table = render_text(_board())
    assert "\x1b" not in table and "\x07" not in table and "\\x1b]0;pwned" in table
    md = render_markdown(_board())
    assert "\x1b" not in md and len(md.strip().splitlines()) == 2 + len(HOSTILE) and "\\|model" in md


# 4. Safe writes ------------------------------------------------------------------------------------


def test_atomic_write_never_follows_links_and_leaves_old_content_on_failure(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "out.json"
    link.symlink_to(victim)
    with pytest.raises(StoreError, match="symbolic link"):
        atomic_write(link, "x")
    assert victim.read_text() == "precious"
    planted = tmp_path / "real.json.tmp"  # the old fixed temp name, planted as a link
    planted.symlink_to(victim)
    atomic_write(tmp_path / "real.json", "new")
    assert victim.read_text() == "precious" and (tmp_path / "real.json").read_text() == "new"
    with pytest.raises(RuntimeError), atomic_writer(tmp_path / "real.json") as f:
        f.write("half")
        raise RuntimeError("disk full")
    assert (tmp_path / "real.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "out.json",
        "real.json",
        "real.json.tmp",
        "victim.txt",
    ]
    assert (tmp_path / "real.json").stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_manifest_paths_never_collide():
    outs = ["x.manifest.json", "run.v1.json", "run.v2.json", "annotations.json", "out", "x.csv"]
    manifests = [manifest_path(o) for o in outs]
    assert len(set(manifests) | {Path(o) for o in outs}) == 2 * len(outs)
    assert manifest_path("dir/annotations.json") == Path("dir/annotations.manifest.json")  # unchanged name


def test_out_is_checked_before_any_call(tmp_path, capsys):
    cand, base = pair_files(tmp_path, 2)
    (tmp_path / "folder").mkdir()
    with pytest.raises(StoreError, match="existing folder"):
        check_output_file(tmp_path / "folder")
    with RecordingServer() as server:
        argv = annotate_argv(cand, base, tmp_path / "s.sqlite", tmp_path / "folder", base_url=server.base_url)
        code, _, err = run_cli(argv, capsys)
        assert_one_line_error(code, err, codes=(4,), names="existing folder")
        assert server.seen == []


def test_annotate_outputs_and_manifests_are_distinct_files(tmp_path, capsys):
    cand, base = pair_files(tmp_path, 2)
    with RecordingServer() as server:
        for out in ("x.manifest.json", "run.v1.json", "run.v2.json"):
            argv = annotate_argv(cand, base, tmp_path / "s.sqlite", tmp_path / out, base_url=server.base_url)
            code, _, err = run_cli(argv, capsys)
            assert code == 0, err
    assert isinstance(
        json.loads((tmp_path / "x.manifest.json").read_text()), list
    )  # the annotations survived
    for out in ("x.manifest", "run.v1", "run.v2"):
        assert "judge_hash" in json.loads((tmp_path / f"{out}.manifest.json").read_text())


def test_out_that_is_the_store_is_refused_before_anything_is_written(tmp_path, capsys):
    cand, base = pair_files(tmp_path, 2)
    store = tmp_path / "s.sqlite"
    store.write_bytes(b"SQLite format 3\x00precious")
    code, _, err = run_cli(annotate_argv(cand, base, store, store, extra=("--offline",)), capsys)
    assert_one_line_error(code, err, codes=(2,), names="is the --store")
    assert store.read_bytes() == b"SQLite format 3\x00precious"


def test_a_key_echoed_in_a_reply_never_reaches_a_file(tmp_path, monkeypatch):

    monkeypatch.setenv("JB_KEY", SECRET)
    cand, base = pair_files(tmp_path, 2)
    with RecordingServer(mode="echo200") as server:
        run = annotate_pair(
            cand,
            base,
            tmp_path / "s.sqlite",
            judge="alpacaeval2-labels",
            base_url=server.base_url,
            key=KeyAccess(api_key_env="JB_KEY"),
        )
        assert server.seen[0][1] == f"Bearer {SECRET}"
    blob = json.dumps(run.records) + json.dumps(run.manifest)
    assert "you sent Bearer [REDACTED]" in blob and SECRET not in blob
    for f in tmp_path.glob("s.sqlite*"):
        assert SECRET.encode() not in f.read_bytes()


def test_the_batch_backend_sends_the_key_by_the_chat_backends_rules_and_redacts_it(monkeypatch):
    """`suite --batch` talks to the files/batches endpoints itself: the same key decision applies (a
    loopback server gets the key only when --api-key-env names it) and a 401 quoting it is redacted."""
    from judgebench.backends.openai_batch import OpenAIBatchBackend

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    errors = []
    with RecordingServer("echo401") as srv:
        for env in (None, "OPENAI_API_KEY"):
            with pytest.raises(FatalBackendError) as err:
                OpenAIBatchBackend("m", base_url=srv.base_url, api_key_env=env)._http(
                    "POST", "/chat/completions", b"{}"
                )
            errors.append(str(err.value))
    assert [auth for _, auth in srv.seen] == [None, f"Bearer {SECRET}"]
    assert "401" in errors[1] and SECRET not in errors[1]
