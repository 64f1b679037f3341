"""The bounded one-file reader (files/bounded.py): every refusal as one line naming the file and what to do,
the size cap at its exact edge (plain, gzipped, a bomb, a FIFO), sizes as the --max-input-size help states
them. Expected bytes come from the standard library (gzip, os). Fast on purpose: scripts/mutation reruns
these for every mutant of files/bounded.py."""

import gzip
import os
import random
import socket
import stat
import threading
import time

import pytest

from judgebench.errors import InputError
from judgebench.files import bounded
from judgebench.files.bounded import max_input_bytes, parse_size, read_text

HINT_BIG = (
    "if the file is genuine, raise the cap with --max-input-size (or JUDGEBENCH_MAX_INPUT_BYTES), "
    "e.g. --max-input-size 8G"
)


def _error(path) -> str:
    with pytest.raises(InputError) as err:
        read_text(path)
    return str(err.value)


@pytest.mark.parametrize(
    ("given", "size"),
    [
        ("500M", 500 * 1024**2),
        ("8G", 8 * 1024**3),
        (" 2t ", 2 * 1024**4),
        ("1.5k", 1536),
        ("2KB", 2048),
        ("10", 10),
        ("10b", 10),
        ("", None),
        ("  ", None),
        ("B", None),
    ],
)
def test_sizes_read_as_the_help_states(given, size):
    assert parse_size(given) == size


@pytest.mark.parametrize("given", ["abc", "M", "1.2.3G", "G5"])
def test_a_bad_size_is_one_line(given):
    with pytest.raises(InputError) as err:
        parse_size(given)
    assert str(err.value) == f"field 'max input size': not a size: {given!r} -> e.g. 500M or 8G"


def test_the_cap_is_2_gib_unless_set(monkeypatch):
    monkeypatch.delenv("JUDGEBENCH_MAX_INPUT_BYTES", raising=False)
    assert max_input_bytes() == 2_147_483_648
    monkeypatch.setenv("JUDGEBENCH_MAX_INPUT_BYTES", "")
    assert max_input_bytes() == 2_147_483_648
    monkeypatch.setenv("JUDGEBENCH_MAX_INPUT_BYTES", "3K")
    assert max_input_bytes() == 3072


def test_text_plain_with_a_bom_and_gzipped(tmp_path):
    plain = tmp_path / "a.txt"
    plain.write_bytes("\ufeffhé\nline two\n".encode())
    assert read_text(plain) == "hé\nline two\n"
    packed = tmp_path / "a.txt.gz"
    packed.write_bytes(gzip.compress("ünï\n".encode()))
    assert read_text(str(packed)) == "ünï\n"
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert read_text(empty) == ""


def test_bytes_that_are_not_utf8_name_their_offset_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"ab\ncd\n\xffe")
    assert (
        _error(path) == f"{path}: bytes at offset 6 (line 3) are not valid UTF-8 -> re-save the file as UTF-8"
    )
    path.write_bytes(b"\xfe")
    assert (
        _error(path) == f"{path}: bytes at offset 0 (line 1) are not valid UTF-8 -> re-save the file as UTF-8"
    )


def test_paths_that_cannot_be_read_are_one_line(tmp_path):
    missing = tmp_path / "nope.json"
    assert _error(missing) == f"{missing}: file not found -> check the path (globs are expanded by the CLI)"
    long = tmp_path / ("x" * 300)
    assert _error(long) == f"{long}: cannot be opened (File name too long) -> check the path"
    nul = tmp_path / "a\0b"
    assert _error(nul) == f"{nul}: cannot be opened (embedded null byte) -> check the path"
    assert _error(tmp_path) == (
        f"{tmp_path}: is a folder, not a file -> name a file, or pass the folder where folders are accepted "
        "(--annotations)"
    )


SPECIAL = (
    "it may never end, or never answer) -> copy it into a file, or pass --allow-special-files to read it"
)


def test_special_files_are_refused_unless_asked(tmp_path, monkeypatch):
    monkeypatch.delenv("JUDGEBENCH_ALLOW_SPECIAL_FILES", raising=False)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert _error(fifo) == f"{fifo}: is a FIFO, not a regular file ({SPECIAL} (bounded by --max-input-size)"
    assert (
        _error("/dev/null")
        == f"/dev/null: is a device, not a regular file ({SPECIAL} (bounded by --max-input-size)"
    )
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock"))
    try:
        assert _error(tmp_path / "sock").startswith(
            f"{tmp_path / 'sock'}: is not a regular file, not a regular"
        )
    finally:
        sock.close()
    monkeypatch.setenv("JUDGEBENCH_ALLOW_SPECIAL_FILES", "0")
    assert "is a device" in _error("/dev/null")
    monkeypatch.setenv("JUDGEBENCH_ALLOW_SPECIAL_FILES", "1")
    assert read_text("/dev/null") == ""


def _feed(fifo, data: bytes, pause: float = 0.0):
    def write():
        with open(fifo, "wb") as f:
            for i in range(0, len(data), 1000):
                f.write(data[i : i + 1000])
                f.flush()
            time.sleep(pause)

    t = threading.Thread(target=write)
    t.start()
    return t


def test_a_fifo_is_read_when_asked_and_bounded(tmp_path, monkeypatch):
    monkeypatch.setenv("JUDGEBENCH_ALLOW_SPECIAL_FILES", "1")
    monkeypatch.setenv("JUDGEBENCH_MAX_INPUT_BYTES", "1K")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    t = _feed(fifo, b"x" * 1024)
    assert read_text(fifo) == "x" * 1024  # exactly the cap: read
    t.join()
    t = _feed(fifo, b"y" * 1025)
    assert _error(fifo) == f"{fifo}: file holds more than 0 MiB -> {HINT_BIG}"
    t.join()
    # a writer that holds the FIFO open and sends nothing: refused after the idle timeout
    monkeypatch.setattr(bounded, "SPECIAL_FILE_IDLE_TIMEOUT", 0.6)
    t = _feed(fifo, b"z", pause=1.2)
    started = time.monotonic()
    assert _error(fifo) == f"{fifo}: nothing to read for 1 s -> is anything writing to it?"
    assert 0.5 < time.monotonic() - started < 1.15
    t.join()


def test_the_cap_at_its_edge_plain_and_gzipped(tmp_path, monkeypatch):
    monkeypatch.setenv("JUDGEBENCH_MAX_INPUT_BYTES", "1M")
    cap = 1 << 20
    edge = tmp_path / "edge.txt"
    edge.write_bytes(b"a" * cap)
    assert len(read_text(edge)) == cap
    over = tmp_path / "over.txt"
    over.write_bytes(b"a" * (cap + 1))
    assert _error(over) == f"{over}: file holds more than 1 MiB -> {HINT_BIG}"
    gz_edge = tmp_path / "edge.gz"
    gz_edge.write_bytes(gzip.compress(b"b" * cap))
    assert len(read_text(gz_edge)) == cap
    bomb = tmp_path / "bomb.gz"
    bomb.write_bytes(gzip.compress(b"\n" * (cap + 1)))
    assert _error(bomb) == f"{bomb}: decompresses to more than 1 MiB -> {HINT_BIG}"
    # gzip bytes larger than the cap are still read (and refused) as gzip, not as a big plain file
    rng = random.Random(3)
    noise = rng.randbytes(cap + 5000)
    big_gz = tmp_path / "big.gz"
    big_gz.write_bytes(gzip.compress(noise, compresslevel=0))
    assert _error(big_gz) == f"{big_gz}: file holds more than 1 MiB -> {HINT_BIG}"


def test_a_large_gzip_is_measured_then_read(tmp_path, monkeypatch):
    """Over ~60 KB compressed, the stream is first only measured: same text, and a bomb refused the same."""
    rng = random.Random(5)
    text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz \n") for _ in range(200_000))
    path = tmp_path / "large.gz"
    path.write_bytes(gzip.compress(text.encode()))
    assert os.path.getsize(path) * 1100 > 64 << 20
    assert read_text(path) == text
    monkeypatch.setenv("JUDGEBENCH_MAX_INPUT_BYTES", "190K")
    assert _error(path) == f"{path}: decompresses to more than 0 MiB -> {HINT_BIG}"


def test_a_cut_gzip_is_one_line(tmp_path):
    path = tmp_path / "cut.json.gz"
    path.write_bytes(gzip.compress(b'{"a": 1}\n' * 1000)[:40])
    message = _error(path)
    assert message.startswith(f"{path}: gzip stream is truncated or corrupt (")
    assert message.endswith(") -> the file was probably cut off while copying; fetch or regenerate it")
    path.write_bytes(b"\x1f\x8b" + b"not gzip at all")
    assert "gzip stream is truncated or corrupt" in _error(path)


def test_a_file_that_cannot_be_opened_for_reading_is_one_line(tmp_path, monkeypatch):
    path = tmp_path / "locked.txt"
    path.write_text("x")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(bounded.os, "open", refuse)
    assert _error(path) == f"{path}: cannot be read (Permission denied) -> check its permissions"


def test_a_fifo_nobody_writes_to_never_hangs_the_open(tmp_path, monkeypatch):
    """Opened without blocking: a FIFO with no writer is refused after the idle timeout, the open does not
    wait for a writer forever."""
    monkeypatch.setenv("JUDGEBENCH_ALLOW_SPECIAL_FILES", "1")
    monkeypatch.setattr(bounded, "SPECIAL_FILE_IDLE_TIMEOUT", 0.6)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    result = []

    def read():
        try:
            read_text(fifo)
        except InputError as err:
            result.append(str(err))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(3)
    if reader.is_alive():  # let the blocked open go, so the test ends
        open(fifo, "wb").close()
        pytest.fail("the open waited for a writer")
    assert result == [f"{fifo}: nothing to read for 1 s -> is anything writing to it?"]


def test_many_chunks_add_up_and_join_exactly(tmp_path, monkeypatch):
    """With a 1000-byte chunk, a file is read (and gunzipped) in many pieces: the same text, the cap on the
    sum of the pieces."""
    monkeypatch.setattr(bounded, "CHUNK", 1000)
    text = "".join(f"line {i}\n" for i in range(3000))  # 27,890 bytes
    plain, packed = tmp_path / "a.txt", tmp_path / "a.txt.gz"
    plain.write_text(text)
    packed.write_bytes(gzip.compress(text.encode()))
    assert read_text(plain) == text and read_text(packed) == text
    monkeypatch.setenv("JUDGEBENCH_MAX_INPUT_BYTES", "27K")  # 27,648: under the text's size
    # stat says empty (a file that grows while read): the cap must hold on the bytes read, not on the stat
    grown = os.stat_result((stat.S_IFREG | 0o644, 0, 0, 1, 0, 0, 0, 0, 0, 0))
    monkeypatch.setattr(bounded, "_check_regular", lambda path: grown)
    assert _error(plain) == f"{plain}: file holds more than 0 MiB -> {HINT_BIG}"
    assert _error(packed) == f"{packed}: decompresses to more than 0 MiB -> {HINT_BIG}"


def test_a_gzipped_fifo_is_gunzipped_from_what_was_read(tmp_path, monkeypatch):
    """A FIFO's bytes can be read once: the gzip stream is decompressed from them, never by reopening it."""
    monkeypatch.setenv("JUDGEBENCH_ALLOW_SPECIAL_FILES", "1")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    t = _feed(fifo, gzip.compress("ünï\n".encode() * 50))
    result = []
    reader = threading.Thread(target=lambda: result.append(read_text(fifo)), daemon=True)
    reader.start()
    reader.join(3)
    t.join()
    if reader.is_alive():  # it reopened the FIFO: let it go
        _feed(fifo, b"").join()
        pytest.fail("the FIFO was opened again")
    assert result == ["ünï\n" * 50]
