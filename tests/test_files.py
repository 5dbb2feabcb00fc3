"""The "nothing is lost" primitives in lrsci.files: durable, shareable writes; honest disk-full
errors; quarantine that never overwrites; write-once publishing."""
import errno
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lrsci import files

ROOT = Path(__file__).resolve().parents[1]
STAMP = "20260101T000000"


@pytest.fixture
def umask():
    """Run with a given umask (and a fresh cached copy of it); the test's umask is restored after."""
    saved = os.umask(0o022)
    os.umask(saved)

    def set_to(mask):
        os.umask(mask)
        files._umask.cache_clear()
    yield set_to
    os.umask(saved)
    files._umask.cache_clear()


@pytest.fixture
def fixed_time(monkeypatch):
    """Every quarantine in the test happens 'in the same second'."""
    monkeypatch.setattr(files.time, "strftime", lambda fmt, t=None: STAMP)


def fd_path(fd):
    return os.readlink(f"/proc/self/fd/{fd}")


needs_proc = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="names fds through /proc")


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


# --- 1. durability: fsync the data before the rename, the folder after ---------------------------
@needs_proc
def test_a_writer_that_never_fsyncs_is_fsynced_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    events, real_fsync, real_replace = [], os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append(("fsync", fd_path(fd))), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append(("replace", str(b))), real_replace(a, b))[1])
    target = tmp_path / "checkpoint.pt"
    files.atomic_write(target, lambda tmp: torch.save({"epoch": 3}, tmp))  # torch.save never fsyncs
    (_, synced_file), replaced, synced_folder = events
    assert synced_file.endswith(".tmp") and Path(synced_file).parent == tmp_path
    assert replaced == ("replace", str(target)) and synced_folder == ("fsync", str(tmp_path))
    assert torch.load(target)["epoch"] == 3


@needs_proc
def test_write_text_fsyncs_once_not_twice(tmp_path, monkeypatch):
    synced, real_fsync = [], os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd_path(fd)), real_fsync(fd))[1])
    files.write_json(tmp_path / "result.json", {"a": 1})
    assert len(synced) == 2 and synced[1] == str(tmp_path)


def test_a_folder_that_refuses_fsync_still_gets_its_file(tmp_path, monkeypatch):
    real_fsync = os.fsync

    def fsync(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "Invalid argument")  # as some filesystems answer for a folder
        real_fsync(fd)
    monkeypatch.setattr(os, "fsync", fsync)
    files.write_text(tmp_path / "report.md", "hello")
    assert (tmp_path / "report.md").read_text() == "hello"


def test_a_full_disk_found_by_fsync_is_disk_full_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "result.json"
    files.write_json(target, {"old": True})
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left")))
    with pytest.raises(files.DiskFull, match="result.json"):
        files.write_json(target, {"new": True})
    assert json.loads(target.read_text()) == {"old": True} and list(tmp_path.iterdir()) == [target]


# --- 2. mode: what open() would give, not mkstemp's 0600 -----------------------------------------
@pytest.mark.parametrize("mask, want", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_files_get_the_mode_open_would_give(tmp_path, umask, mask, want):
    umask(mask)
    files.write_json(tmp_path / "result.json", {"a": 1})
    files.atomic_write(tmp_path / "checkpoint.pt", lambda tmp: torch.save({}, tmp))
    files.write_json_new(tmp_path / "calibration.json", {"b": 2})
    assert [mode(tmp_path / n) for n in ("result.json", "checkpoint.pt", "calibration.json")] == [want] * 3
    assert os.umask(mask) == mask  # reading the umask left it as it was


# --- 3. only a full disk is called a full disk ----------------------------------------------------
@pytest.mark.parametrize("error", [
    PermissionError(errno.EACCES, "Permission denied"),
    PermissionError("read-only run store"),
    RuntimeError("CUDA error: an illegal memory access was encountered"),
    OSError(errno.EIO, "Input/output error"),
    ValueError("not an I/O error"),
])
def test_other_errors_are_not_a_full_disk_even_with_little_space_left(tmp_path, monkeypatch, error):
    monkeypatch.setattr(files, "_free_bytes", lambda path: 500_000)
    with pytest.raises(type(error)) as raised:
        files.atomic_write(tmp_path / "x.json", lambda tmp: (_ for _ in ()).throw(error))
    assert raised.value is error and not isinstance(raised.value, files.DiskFull)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("error, free", [
    (OSError(errno.ENOSPC, "No space left on device"), 1 << 40),
    (OSError(errno.EDQUOT, "Disk quota exceeded"), 1 << 40),
    (RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 512 vs 448"), 1 << 40),
    (RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed"), 1 << 40),
    (OSError("write failed"), 500_000),  # no errno, no other cause named, and the disk is all but full
])
def test_a_full_disk_is_named(tmp_path, monkeypatch, error, free):
    monkeypatch.setattr(files, "_free_bytes", lambda path: free)
    with pytest.raises(files.DiskFull, match="No space left on device while writing .*x.json"):
        files.atomic_write(tmp_path / "x.json", lambda tmp: (_ for _ in ()).throw(error))


def test_a_bare_oserror_with_room_left_is_not_a_full_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "_free_bytes", lambda path: 1 << 40)
    with pytest.raises(OSError) as raised:
        files.atomic_write(tmp_path / "x.json", lambda tmp: (_ for _ in ()).throw(OSError("write failed")))
    assert not isinstance(raised.value, files.DiskFull)


def test_a_full_disk_found_creating_the_temporary_file_is_disk_full_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "result.json"
    files.write_json(target, {"old": True})
    monkeypatch.setattr(files.tempfile, "mkstemp",
                        lambda **kw: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(files.DiskFull, match="No space left on device while writing .*result.json"):
        files.write_json(target, {"new": True})
    assert json.loads(target.read_text()) == {"old": True}


def test_free_space_that_cannot_be_read_does_not_make_a_bare_oserror_a_full_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(files.shutil, "disk_usage", lambda path: (_ for _ in ()).throw(OSError(errno.EIO, "EIO")))
    with pytest.raises(OSError) as raised:
        files.atomic_write(tmp_path / "x.json", lambda tmp: (_ for _ in ()).throw(OSError("write failed")))
    assert not isinstance(raised.value, files.DiskFull)


# --- 4. quarantine: never overwrites, flat names, folders, a vanished source ---------------------
def test_repeated_quarantines_in_one_second_get_flat_numbered_names(tmp_path, fixed_time):
    p = tmp_path / "result.json"
    moved = []
    for i in range(4):
        p.write_text(f"bad {i}")
        moved.append(files.quarantine(p))
    stem = f"result.json.corrupt-{STAMP}"
    assert [m.name for m in moved] == [stem, f"{stem}.1", f"{stem}.2", f"{stem}.3"]
    assert [m.read_text() for m in moved] == [f"bad {i}" for i in range(4)] and not p.exists()


def test_a_run_folder_is_quarantined_whole(tmp_path, fixed_time):
    run = tmp_path / "runs" / "abc123"
    run.mkdir(parents=True)
    (run / "result.json").write_text("{")
    (run / "checkpoint.pt").write_bytes(b"ck")
    moved = files.quarantine(run)
    assert moved.name == f"abc123.corrupt-{STAMP}" and not run.exists()
    assert sorted(p.name for p in moved.iterdir()) == ["checkpoint.pt", "result.json"]


def test_an_empty_folder_under_the_name_is_not_replaced(tmp_path, fixed_time):
    run = tmp_path / "abc123"
    (run / "sub").mkdir(parents=True)
    taken = tmp_path / f"abc123.corrupt-{STAMP}"
    taken.mkdir()  # another process's quarantined (empty) folder: a plain rename would replace it
    moved = files.quarantine(run)
    assert moved.name == f"{taken.name}.1" and (moved / "sub").is_dir() and taken.is_dir()


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_name_taken_between_choosing_and_moving_is_not_overwritten(tmp_path, fixed_time, monkeypatch, kind):
    p = tmp_path / "result.json"
    p.mkdir() if kind == "folder" else p.write_text("mine")
    theirs = tmp_path / f"result.json.corrupt-{STAMP}"
    claim = os.mkdir if kind == "folder" else os.open

    def another_process_lands_first(name, *args, **kw):
        if Path(name) == theirs and not theirs.exists():
            theirs.write_text("ANOTHER PROCESS'S QUARANTINED FILE")
        return claim(name, *args, **kw)
    monkeypatch.setattr(os, claim.__name__, another_process_lands_first)
    moved = files.quarantine(p)
    monkeypatch.undo()
    assert theirs.read_text() == "ANOTHER PROCESS'S QUARANTINED FILE"
    assert moved.name == f"{theirs.name}.1" and (moved.is_dir() if kind == "folder" else moved.read_text() == "mine")


def test_a_second_quarantine_of_a_moved_file_names_it_and_leaves_no_trace(tmp_path, fixed_time):
    p = tmp_path / "result.json"
    p.write_text("bad")
    first = files.quarantine(p)  # the other process, faster
    with pytest.raises(FileNotFoundError, match=r"result\.json.*another process") as raised:
        files.quarantine(p)
    assert raised.value.filename == str(p)
    assert list(tmp_path.iterdir()) == [first] and first.read_text() == "bad"  # its claim was given back


def test_a_quarantine_is_stamped_in_utc_whatever_the_local_time_zone(tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "Etc/GMT-14")   # UTC+14: a local stamp would be 14 hours off
    files.time.tzset()
    try:
        p = tmp_path / "result.json"
        p.write_text("bad")
        before = files.time.strftime("%Y%m%dT%H%M%S", files.time.gmtime())
        moved = files.quarantine(p)
        after = files.time.strftime("%Y%m%dT%H%M%S", files.time.gmtime())
    finally:
        monkeypatch.undo()
        files.time.tzset()
    assert before <= moved.name.removeprefix("result.json.corrupt-") <= after


# --- 5. publish_new: written once, never replaced ------------------------------------------------
def test_publish_new_writes_a_new_record(tmp_path):
    path = tmp_path / "calibration.json"
    files.write_json_new(path, {"eta": 0.1})
    assert json.loads(path.read_text()) == {"eta": 0.1} and list(tmp_path.iterdir()) == [path]


def test_publish_new_refuses_an_existing_record_and_leaves_it_untouched(tmp_path):
    path = tmp_path / "calibration.json"
    path.write_text('{"eta": 0.1}')
    before = path.stat()
    with pytest.raises(FileExistsError):
        files.write_json_new(path, {"eta": 0.2})
    after = path.stat()
    assert path.read_text() == '{"eta": 0.1}'
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_publish_new_refuses_a_record_that_appears_while_it_writes(tmp_path):
    path = tmp_path / "calibration.json"

    def write(tmp):
        Path(tmp).write_text("mine")
        path.write_text("theirs")  # another process publishes between our check-free write and the link
    with pytest.raises(FileExistsError):
        files.publish_new(path, write)
    assert path.read_text() == "theirs" and list(tmp_path.iterdir()) == [path]


# --- 6. what a killed writer leaves is not committed ----------------------------------------------
@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs the git checkout")
@pytest.mark.parametrize("name", ["reports/x/result.json.k2x9a_1.tmp", "result.json.abc123.tmp",
                                  ".runs.lock", "reports/x/.result.json.lock"])
def test_temporary_and_lock_files_are_git_ignored(name):
    assert subprocess.run(["git", "check-ignore", "-q", "--no-index", name], cwd=ROOT).returncode == 0


def tar_of(path: Path, members: list) -> Path:
    """A tar holding ``members``: (name, bytes) for a file, (name, target) with a str target for a symlink."""
    import io
    import tarfile

    with tarfile.open(path, "w") as tar:
        for name, body in members:
            info = tarfile.TarInfo(name)
            if isinstance(body, str):
                info.type, info.linkname = tarfile.SYMTYPE, body
                tar.addfile(info)
            else:
                info.size = len(body)
                tar.addfile(info, io.BytesIO(body))
    return path


# the fallback, forced on a Python that has the filter: 3.12 and 3.13 warn that 3.14 will filter by default
NO_FILTER_WARNING = pytest.mark.filterwarnings("ignore:Python 3.14 will:DeprecationWarning")


@pytest.fixture(params=["data filter", "without it (Python 3.11.0-3.11.3)"])
def extraction(request, monkeypatch):
    if request.param != "data filter":
        monkeypatch.delattr(files.tarfile, "data_filter", raising=False)
    return request.param


@NO_FILTER_WARNING
def test_extract_tar_unpacks_plain_files_and_folders(tmp_path, extraction):
    path = tar_of(tmp_path / "a.tar", [("reports/c/result.json", b"{}"), ("runs/k/config.json", b"[]")])
    files.extract_tar(path, tmp_path / "out")
    assert (tmp_path / "out/reports/c/result.json").read_bytes() == b"{}"
    assert (tmp_path / "out/runs/k/config.json").read_bytes() == b"[]"


@NO_FILTER_WARNING
@pytest.mark.parametrize("members", [[("../outside", b"x")], [("link", str(Path("..") / "..")), ("link/outside", b"x")]],
                         ids=["dot-dot", "link out"])
def test_extract_tar_refuses_what_would_land_outside_the_folder(tmp_path, extraction, members):
    path = tar_of(tmp_path / "a.tar", members)
    with pytest.raises(files.UnsafeArchive, match="member"):
        files.extract_tar(path, tmp_path / "x" / "out")
    assert not (tmp_path / "x" / "outside").exists() and not (tmp_path / "outside").exists()


@NO_FILTER_WARNING
def test_extract_tar_never_writes_an_absolute_member_where_it_points(tmp_path, extraction):
    """The data filter unpacks "/abs/name" as out/abs/name; without it, it is refused."""
    target = tmp_path / "elsewhere" / "name"
    path = tar_of(tmp_path / "a.tar", [(str(target), b"x")])
    try:
        files.extract_tar(path, tmp_path / "out")
    except files.UnsafeArchive:
        assert extraction != "data filter"
    else:
        assert (tmp_path / "out" / str(target).lstrip("/")).read_bytes() == b"x"
    assert not target.exists()


def test_probing_a_missing_folder_leaves_nothing_behind(tmp_path):
    """A run stopped before its report must not leave an empty claim folder, nor a probe's folder."""
    files.probe_creatable(tmp_path / "reports" / "some-claim")
    assert list(tmp_path.iterdir()) == []


def test_probing_an_existing_folder_writes_and_removes_a_file_in_it(tmp_path):
    (tmp_path / "reports").mkdir()
    files.probe_creatable(tmp_path / "reports")
    assert list((tmp_path / "reports").iterdir()) == []


def test_a_file_on_the_way_to_the_folder_is_named(tmp_path):
    (tmp_path / "reports").write_text("not a folder")
    with pytest.raises(NotADirectoryError) as err:
        files.probe_creatable(tmp_path / "reports" / "some-claim")
    assert err.value.filename == str(tmp_path / "reports")


def test_a_link_to_nothing_on_the_way_is_named(tmp_path):
    (tmp_path / "reports").symlink_to(tmp_path / "gone")
    with pytest.raises(NotADirectoryError) as err:
        files.probe_creatable(tmp_path / "reports" / "some-claim")
    assert err.value.filename == str(tmp_path / "reports")


def test_two_probes_of_the_same_missing_folder_do_not_collide(tmp_path):
    """Sibling claims probe the same new report root at once: each probe's folder has its own name."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: files.probe_creatable(tmp_path / "new" / f"claim-{i % 2}"), range(64)))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content, problem", [(b"{torn", "Expecting"), (b"\xff\xfe", "can't decode"),
                                              (b"[1, 2]", "found list"), (b"3", "found int")])
def test_a_json_record_that_is_not_an_object_is_a_value_error_saying_why(tmp_path, content, problem):
    path = tmp_path / "r.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=problem):
        files.read_json_object(path)
    assert path.read_bytes() == content   # reading never moves or changes it: the caller decides


def test_a_missing_json_record_is_none_and_a_good_one_its_object(tmp_path):
    assert files.read_json_object(tmp_path / "absent.json") is None
    files.write_json(tmp_path / "r.json", {"a": 1})
    assert files.read_json_object(tmp_path / "r.json") == {"a": 1}


def test_text_is_written_as_utf8_whatever_the_locale(tmp_path):
    """A report says η, ≥ and ×. Under an ASCII locale (LC_ALL=C with Python's C-locale coercion and UTF-8 mode
    off) open()'s default encoding cannot write them: the file is UTF-8 all the same, and reads back."""
    script = ("import sys; from pathlib import Path; from lrsci import files; "
              "files.write_text(Path(sys.argv[1]), '\\u03b7 \\u2265 2 \\u00d7 \\u03bb'); "   # ASCII source: the
              "files.write_json(Path(sys.argv[1]).with_suffix('.json'), {'k': '\\u03b7'}); "   # locale cannot decode η
              "print(files.read_json_object(Path(sys.argv[1]).with_suffix('.json'))['k'] == '\\u03b7')")
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0",
           "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "r.md")], env=env, capture_output=True,
                          text=True, encoding="utf-8", timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
    assert (tmp_path / "r.md").read_bytes() == "η ≥ 2 × λ".encode("utf-8")
