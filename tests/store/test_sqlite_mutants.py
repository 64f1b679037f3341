"""The SQLite store's own code (store/sqlite.py), fast (scripts/mutation reruns these for every mutant): which
files it refuses and the one line it says, how each SQLite error reads, WAL and its retry, leases and
dead holders, chunked lookups. Expected values from the sqlite3 module itself and from the rules in the
store's contract (store/base.py's docstrings)."""

import socket
import sqlite3
import subprocess
import threading

import pytest

from judgebench.errors import StoreError
from judgebench.store import Judgment
from judgebench.store import sqlite as sqlite_store
from judgebench.store.sqlite import SQLiteStore


def _j(key, status="ok"):
    return Judgment(key, "j", "h", "m", "q", "plain", status, 1.0 if status == "ok" else None, None, [], 1)


def _refused(path) -> str:
    with pytest.raises(StoreError) as err:
        SQLiteStore(path)
    return str(err.value)


def _sqlite_file(path, *statements):
    db = sqlite3.connect(path)
    for s in statements:
        db.execute(s)
    db.commit()
    db.close()
    return path.read_bytes()


NEW_NAME = "not a judgebench store; it was not modified -> give --store a new file name"


def test_another_programs_database_is_refused_untouched(tmp_path):
    other = tmp_path / "other.sqlite"
    before = _sqlite_file(other, *(f"CREATE TABLE {t} (x)" for t in ("d", "a", "c", "b")))
    assert (
        _refused(other)
        == f"{other}: is another program's SQLite database (tables ['a', 'b', 'c']), {NEW_NAME}"
    )
    assert other.read_bytes() == before
    layout = tmp_path / "layout.sqlite"
    _sqlite_file(layout, "CREATE TABLE judgments (key TEXT)", "CREATE TABLE schema_version (version INTEGER)")
    assert _refused(layout) == (
        f"{layout}: is another program's SQLite database (a table 'judgments' of another layout), {NEW_NAME}"
    )
    unversioned = tmp_path / "unversioned.sqlite"
    _sqlite_file(unversioned, "CREATE TABLE leases (key TEXT, owner TEXT, expires REAL, extra)")
    assert _refused(unversioned) == (
        f"{unversioned}: is another program's SQLite database (no schema_version table), {NEW_NAME}"
    )


def test_files_that_are_not_sqlite_are_refused(tmp_path, monkeypatch):
    text = tmp_path / "notes.txt"
    text.write_text("SQLite format 2, honestly")
    assert (
        _refused(text)
        == f"{text}: not a SQLite database -> give --store a new file name or a judgebench store"
    )
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    message = _refused(damaged)
    assert message.startswith(f"{damaged}: is not a readable SQLite database (")
    assert message.endswith(") -> give --store another file")
    below_a_file = text / "s.sqlite"
    assert _refused(below_a_file) == (
        f"{below_a_file}: cannot create its folder (File exists) -> check the path and its permissions"
    )
    real_open = open

    def locked(path, *args, **kwargs):
        if str(path).endswith("locked.sqlite"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    (tmp_path / "locked.sqlite").write_bytes(b"x")
    monkeypatch.setattr("builtins.open", locked)
    assert _refused(tmp_path / "locked.sqlite") == (
        f"{tmp_path / 'locked.sqlite'}: cannot be read (Permission denied) -> check the --store path"
    )


def test_empty_files_and_empty_databases_become_stores_and_a_store_reopens(tmp_path):
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    fresh = tmp_path / "fresh.sqlite"
    _sqlite_file(fresh, "PRAGMA user_version = 3")  # a header, no table
    assert fresh.stat().st_size > 0
    for path in (empty, fresh, tmp_path / "new" / "deeper" / "s.sqlite"):
        with SQLiteStore(path) as store:
            store.put(_j("k"))
        with SQLiteStore(path) as store:  # its own tables are a judgebench store's
            assert store.count() == 1
            # WAL, and synchronous NORMAL (1) on the reading connection: durable across process crashes
            assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 1
            assert store.db.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
    db = sqlite3.connect(empty)
    db.execute(
        "ALTER TABLE judgments ADD COLUMN note TEXT"
    )  # more columns than judgebench's: still its store
    db.commit()
    db.close()
    SQLiteStore(empty).close()


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    SQLiteStore(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE schema_version SET version = 9")
    db.commit()
    db.close()
    assert (
        _refused(path)
        == f"{path}: store schema version 9 is newer than this judgebench's (1) -> upgrade judgebench"
    )


@pytest.fixture
def store(tmp_path):
    with SQLiteStore(tmp_path / "s.sqlite") as s:
        yield s


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (sqlite3.DatabaseError("file is not a database"), "not a SQLite database (or a damaged one) -> give a new file name, or the right file"),
        (sqlite3.DatabaseError("database disk image is malformed"), "not a SQLite database (or a damaged one) -> give a new file name, or the right file"),
        (sqlite3.OperationalError("attempt to write a readonly database"), "cannot write here (attempt to write a readonly database) -> use a writable folder, or fix the permissions"),
        (sqlite3.OperationalError("the file is read-only"), "cannot write here (the file is read-only) -> use a writable folder, or fix the permissions"),
        (sqlite3.OperationalError("unable to open database file"), "cannot write here (unable to open database file) -> use a writable folder, or fix the permissions"),
        (sqlite3.OperationalError("database or disk is full"), "the disk is full -> free space and rerun (judgments already stored are kept)"),
        (OSError(28, "No space left on device"), "the disk is full -> free space and rerun (judgments already stored are kept)"),
        (sqlite3.OperationalError("journal full"), "the disk is full -> free space and rerun (judgments already stored are kept)"),
        (sqlite3.OperationalError("database is locked"), "the database stayed locked (database is locked) -> is another program holding it open in a transaction?"),
        (sqlite3.OperationalError("database is busy"), "the database stayed locked (database is busy) -> is another program holding it open in a transaction?"),
        (sqlite3.IntegrityError("UNIQUE constraint failed"), "UNIQUE constraint failed"),
    ],
)  # fmt: skip
def test_each_sqlite_error_reads_as_one_line(store, error, reason):
    out = store._store_error(error)
    assert isinstance(out, StoreError) and str(out) == f"{store.path}: {reason}"


def test_other_errors_pass_through_and_only_a_locked_database_fails_every_job(store):
    mine, bug = StoreError("x"), ValueError("a bug")
    assert store._store_error(mine) is mine and store._store_error(bug) is bug
    assert store._fails_every_job(sqlite3.OperationalError("database is locked"))
    assert store._fails_every_job(sqlite3.OperationalError("database table is busy"))
    assert not store._fails_every_job(sqlite3.OperationalError("no such table: x"))
    assert not store._fails_every_job(sqlite3.IntegrityError("database is locked"))
    assert store._p(3) == "?,?,?" and store._p(1) == "?"
    with pytest.raises(StoreError, match=r"s\.sqlite: no such table: nowhere$"):
        store._select("SELECT * FROM nowhere")


def test_lookups_over_many_keys_and_batches(store):
    keys = [f"k{i:04d}" for i in range(1203)]
    store.put_many([_j(k) for k in keys])
    got = store.get_many([*keys, "absent"])
    assert sorted(got) == keys
    assert sorted(r[0] for r in store._select_in("SELECT key FROM judgments WHERE key", keys)) == keys
    assert [len(b) for b in store.iter_judgment_rows(batch=500)] == [500, 500, 203]
    assert [r[0] for b in store.iter_judgment_rows(batch=2) for r in b] == keys


def test_leases_skip_judged_keys_and_others_live_leases(tmp_path):
    path = tmp_path / "s.sqlite"
    with SQLiteStore(path) as me, SQLiteStore(path) as other:
        keys = [f"k{i:04d}" for i in range(620)]
        me.put_many([_j("k0555"), _j("k0003", status="failed")])  # ok past the first 500; failed: still to do
        assert other.try_lease(["k0001", "k0002"]) == ["k0001", "k0002"]
        taken = me.try_lease(keys)
        assert taken == [k for k in keys if k not in ("k0555", "k0001", "k0002")]
        assert me.try_lease(["k0004"]) == ["k0004"]  # its own lease: taken again
        assert me.leased_by_others(["k0001", "k0004"]) == {"k0001"}
        other.release_all()
        assert me.try_lease(["k0001"]) == ["k0001"]
    with SQLiteStore(path, lease_seconds=-1) as a, SQLiteStore(path) as b:
        assert a.try_lease(["x"]) == ["x"]
        assert b.try_lease(["x"]) == ["x"]  # a's lease had expired


def test_dead_holders_on_this_host_are_found(store, tmp_path):
    child = subprocess.Popen(["true"])
    child.wait()  # its pid is gone
    host = socket.gethostname()
    import os

    owners = [
        f"{host}:{child.pid}:1",
        f"other-host:{child.pid}:1",
        f"{host}:{os.getpid()}:2",
        f"{host}:{os.getppid()}:3",
        f"{host}:pid:4",
        "no-colon",
    ]
    assert store._dead_owners(owners) == [f"{host}:{child.pid}:1"]
    # a store that opens drops dead holders' leases at once
    path = tmp_path / "s.sqlite"
    db = sqlite3.connect(path)
    db.execute("INSERT INTO leases VALUES ('gone', ?, 1e12)", (f"{host}:{child.pid}:1",))
    db.execute("INSERT INTO leases VALUES ('alive', ?, 1e12)", (f"{host}:{os.getppid()}:1",))
    db.commit()
    db.close()
    with SQLiteStore(path) as again:
        assert again.leased_by_others(["gone", "alive"]) == {"alive"}


class FakeDb:
    def __init__(self, failures):
        self.failures, self.calls = list(failures), []

    def execute(self, sql):
        self.calls.append(sql)
        if self.failures:
            raise sqlite3.OperationalError(self.failures.pop(0))
        return self

    def fetchone(self):
        return ("delete",)


def test_wal_is_asked_again_while_locked_then_given_up(monkeypatch):
    slept = []
    monkeypatch.setattr(sqlite_store.time, "sleep", slept.append)
    db = FakeDb(["database is locked", "database is busy"])
    SQLiteStore._set_wal(db)
    assert db.calls == ["PRAGMA journal_mode"] * 3 + ["PRAGMA journal_mode=WAL"]
    assert len(slept) == 2 and 0.02 <= slept[0] <= 0.04 and 0.04 <= slept[1] <= 0.06
    db = FakeDb(["database is locked"] * 8)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        SQLiteStore._set_wal(db, tries=8)
    assert len(db.calls) == 8
    db = FakeDb(["disk I/O error"])
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        SQLiteStore._set_wal(db)
    assert len(db.calls) == 1


def test_a_failed_group_is_rolled_back(store):
    conn = sqlite3.connect(store.path, isolation_level=None)

    def good(c):
        c.execute("INSERT INTO leases VALUES ('a', 'o', 1)")
        return "done"

    def bad(c):
        raise ValueError("job failed")

    with pytest.raises(ValueError):
        store._transaction(conn, [good, bad])
    assert not conn.in_transaction
    assert conn.execute("SELECT COUNT(*) FROM leases").fetchone()[0] == 0
    assert store._transaction(conn, [good]) == ["done"]
    conn.close()


def test_a_reader_that_cannot_connect_stops_the_writer(tmp_path, monkeypatch):
    real = SQLiteStore._connect
    calls = []

    def second_fails(self):
        calls.append(1)
        if len(calls) == 2:
            raise sqlite3.OperationalError("unable to open database file")
        return real(self)

    def writers() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name.startswith("judgebench-store-writer")}

    before = writers()  # other tests' stores may still be closing theirs
    monkeypatch.setattr(SQLiteStore, "_connect", second_fails)
    path = tmp_path / "s.sqlite"
    assert _refused(path) == (
        f"{path}: cannot write here (unable to open database file) -> use a writable folder, or fix the permissions"
    )
    assert not writers() - before
    monkeypatch.undo()
    store = SQLiteStore(path)
    store.close()
    with pytest.raises(sqlite3.ProgrammingError):
        store.db.execute("SELECT 1")
