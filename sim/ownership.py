"""What townsim may replace: ownership markers, one writer per output, atomic swaps, leftovers.

The rule (every writer: run, figures, report, sweep, rank-lines, export-gtfs):

* A folder townsim writes holds a marker file ``.townsim`` whose ``token`` is :data:`TOKEN`, the
  kind of output (run, figures, sweep, gtfs) and the name and size of every file written.
* A single file townsim writes (report, ranking CSV, GTFS zip) has a sidecar marker
  ``.<name>.townsim`` with the token and the file's SHA-256.
* An existing path is replaced only if its marker has the token, the same kind, and nothing was
  added or changed since (a folder: no file beyond those listed, sizes equal; a file: same hash).
  Anything else is never replaced or deleted: the command stops with exit code 2 and says why.
  An empty folder holds nothing to lose and is taken over.

Output is built in a hidden staging sibling ``.<name>.townsim-tmp-<pid>-<random>`` (no marker
until complete) while holding a lock on ``.<name>.townsim-lock`` (``flock``: released by the
kernel when the process dies, even by SIGKILL), then swapped into place with one atomic
``renameat2(RENAME_EXCHANGE)`` with SIGINT/SIGTERM held back; a staging leftover of a killed
process is removed by the next writer of the same output. Everything is created with the user's
umask.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import secrets
import shutil
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sim.errors import SimError

__all__ = [
    "MARKER",
    "TOKEN",
    "adopt_folder",
    "check_replaceable",
    "commit_dir",
    "held_signals",
    "output_lock",
    "read_marker",
    "staged_dir",
    "write_dir_owned",
    "write_error",
    "write_file_owned",
    "write_marker",
]

TOKEN = "townsim-output/1 c1d5e0b7"
MARKER = ".townsim"
_STAGING = "townsim-tmp"
_LOCK = "townsim-lock"
_DEFERRED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: Outputs whose lock this process holds -> the lock's descriptor.
_HELD: dict[Path, int] = {}
#: Of those, the ones taken with ``output_lock(nested=True)``.
_NESTED: set[Path] = set()


def _forget_locks_in_child() -> None:
    """A forked child closes its copies of the lock descriptors: the lock dies with the parent."""
    for fd in _HELD.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()
    _NESTED.clear()


os.register_at_fork(after_in_child=_forget_locks_in_child)


def _sidecar(path: Path) -> Path:
    return path.with_name(f".{path.name}{MARKER}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _load_marker(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("token") == TOKEN else None


def read_marker(path: str | Path) -> dict[str, Any] | None:
    """The ownership marker of a folder or file townsim wrote, or None."""
    path = Path(path)
    return _load_marker(path / MARKER if path.is_dir() else _sidecar(path))


def _listing(folder: Path) -> dict[str, int]:
    """Relative path -> size of every file below ``folder`` (the marker excluded)."""
    out: dict[str, int] = {}
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            full = Path(root) / name
            rel = full.relative_to(folder).as_posix()
            if rel != MARKER:
                out[rel] = full.stat().st_size
    return out


def write_marker(folder: Path, kind: str, *, files: bool = True, **extra: Any) -> None:
    """Write ``folder/.townsim``: the token, the kind, the files written (name -> bytes), ``extra``."""
    marker = {"token": TOKEN, "kind": kind, **extra}
    if files:
        marker["files"] = _listing(folder)
    (folder / MARKER).write_text(json.dumps(marker, ensure_ascii=False, indent=1), encoding="utf-8")


def check_replaceable(out: Path, kind: str, *, option: str = "--out") -> dict[str, Any] | None:
    """Refuse unless ``out`` is absent, an empty folder, or unchanged output of this ``kind``.

    Returns:
        The marker of the existing output (None if there is none).

    Raises:
        SimError: ``out`` holds something townsim did not write, or that changed since.
    """
    if not out.exists() and not out.is_symlink():
        _check_writable_below(out, option)
        return None
    other = f"; choose another {option} (townsim never replaces what it did not write)"
    if out.is_symlink():
        raise SimError(f"{out}: is a symbolic link{other}")
    if out.is_dir():
        if not any(out.iterdir()):
            return None
        marker = _load_marker(out / MARKER)
        if marker is None:
            raise SimError(f"{out}: exists and was not written by townsim (no {MARKER} marker){other}")
        if marker.get("kind") != kind:
            raise SimError(f"{out}: holds townsim {marker.get('kind')} output, not {kind} output{other}")
        listed = marker.get("files")
        if isinstance(listed, dict):
            now = _listing(out)
            added = sorted(n for n in set(now) - set(listed) if not _townsim_inside(out, n))
            changed = sorted(n for n in set(now) & set(listed) if now[n] != listed[n])
            if added or changed:
                what = f"'{(added or changed)[0]}' was {'added' if added else 'changed'}"
                raise SimError(f"{out}: {what} after townsim wrote it{other}")
        return marker
    marker = _load_marker(_sidecar(out))
    if marker is None or marker.get("kind") != kind:
        raise SimError(f"{out}: exists and was not written by townsim as {kind} output{other}")
    if marker.get("sha256") != _sha256(out):
        raise SimError(f"{out}: was changed after townsim wrote it{other}")
    return marker


def _townsim_inside(out: Path, name: str) -> bool:
    """Whether ``name`` (a path below ``out``) is townsim's own: in an unchanged townsim output
    folder (e.g. ``RUN/gis`` of ``townsim gis``) or one of its staging or lock files."""
    top = name.split("/", 1)[0]
    if top.startswith(".") and (f".{_STAGING}-" in top or top.endswith(f".{_LOCK}")):
        return True
    sub = out / top
    if top == name or sub.is_symlink() or not sub.is_dir():
        return False
    marker = _load_marker(sub / MARKER)
    if marker is None:
        return False
    try:
        check_replaceable(sub, str(marker.get("kind")))
    except SimError:
        return False
    return True


@contextmanager
def held_signals() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back (delivered on exit) around a few renames."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextmanager
def output_lock(out: Path, *, nested: bool = False, option: str = "--out") -> Iterator[None]:
    """Be the only townsim process writing ``out`` (a ``flock`` on ``.<name>.townsim-lock``).

    With ``nested``, writers this process calls inside the block may lock ``out`` again (a
    command holding the lock for the whole work, then its writer); otherwise they are refused.

    Raises:
        SimError: another live process holds the lock; or ``out``'s folder cannot be created.
    """
    import fcntl

    key = out.absolute()
    if key in _NESTED:  # this process holds the lock and lets its writers in
        yield
        return
    _make_parent(out, option)
    lock = out.with_name(f".{out.name}.{_LOCK}")
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise SimError(
                f"{out}: another townsim process (pid {holder}) is writing this output; "
                f"wait for it to finish or choose another {option}"
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the previous holder removed the file after we opened it: try again
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        _clean_leftovers(out)
        _HELD[key] = fd
        if nested:
            _NESTED.add(key)
        yield
    finally:
        _HELD.pop(key, None)
        _NESTED.discard(key)
        with held_signals():
            Path(lock).unlink(missing_ok=True)
            os.close(fd)


def _check_writable_below(out: Path, option: str) -> None:
    """Refuse early (before any work) an ``out`` whose nearest existing folder townsim cannot write."""
    above = out.absolute().parent
    while not above.exists() and above != above.parent:
        above = above.parent
    if not above.is_dir():
        raise SimError(f"{out}: cannot create its folder: {above} is a file; choose another {option}")
    if not os.access(above, os.W_OK | os.X_OK):
        raise SimError(
            f"{out}: cannot write in {above} (permission denied or read-only); choose another {option}"
        )


def _make_parent(out: Path, option: str = "--out") -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SimError(f"{out}: cannot create its folder {out.parent}: {exc.strerror}") from None
    if not os.access(out.parent, os.W_OK | os.X_OK):
        raise SimError(
            f"{out}: cannot write in {out.parent} (permission denied or read-only); choose another {option}"
        )


def _clean_leftovers(out: Path) -> None:
    """Remove staging leftovers of killed writers of ``out`` (we hold its lock: none is live)."""
    name = glob_escape(out.name)  # also ``..<name>.townsim-tmp-*``: a helper's temporary beside staging
    for stale in [*out.parent.glob(f".{name}.{_STAGING}-*"), *out.parent.glob(f"..{name}.{_STAGING}-*")]:
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def glob_escape(name: str) -> str:
    """``name`` with glob wildcards escaped."""
    return "".join(f"[{c}]" if c in "*?[]" else c for c in name)


def _staging_path(out: Path, suffix: str = "") -> Path:
    return out.with_name(f".{out.name}.{_STAGING}-{os.getpid()}-{secrets.token_hex(4)}{suffix}")


#: Errors of writing (not of reading an input): a full disk, a quota, a read-only file system.
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EIO}


def write_error(out: Path, exc: OSError) -> SimError:
    """A failed write of ``out`` (full disk, quota, read-only) as a message naming ``out``."""
    return SimError(f"{out}: could not write it ({exc.strerror or exc}); nothing was written")


@contextmanager
def staged_dir(out: Path) -> Iterator[Path]:
    """A new hidden staging folder beside ``out`` (user's umask), removed if the block fails; a
    full disk (or quota, read-only file system) is reported naming ``out``."""
    tmp = _staging_path(out)
    tmp.mkdir()
    try:
        yield tmp
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if exc.errno in _WRITE_ERRNOS and not any(_STAGING in part for part in out.parts[:-1]):
            raise write_error(out, exc) from None  # (inside another staging folder: named by its owner)
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); False where the system cannot."""
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def commit_dir(tmp: Path, out: Path) -> None:
    """Put the finished folder ``tmp`` at ``out``, swapping out an existing one in one step."""
    with held_signals():
        if not out.exists():
            tmp.rename(out)
            return
        if not _exchange(tmp, out):
            old = _staging_path(out)
            out.rename(old)
            tmp.rename(out)
            tmp = old
    shutil.rmtree(tmp, ignore_errors=True)  # now the old folder; a leftover is cleaned next time


def write_dir_owned(
    out: Path, kind: str, fill: Callable[[Path], object], *, option: str = "--out", **extra: Any
) -> Path:
    """Write a folder by the ownership rule: lock, refuse what townsim may not replace, stage, swap.

    Args:
        out: the folder to write.
        kind: output kind recorded in the marker (e.g. "gis", "build", "replications").
        fill: writes the folder's files into the staging folder it is given; its result is ignored.
        option: the command-line option that named ``out`` (for messages).
        extra: more fields for the marker.

    Raises:
        SimError: ``out`` exists and is not an unchanged ``kind`` folder townsim wrote.
    """
    with output_lock(out, option=option):
        check_replaceable(out, kind, option=option)
        with staged_dir(out) as tmp:
            fill(tmp)
            write_marker(tmp, kind, **extra)
            commit_dir(tmp, out)
    return out


def adopt_folder(folder: Path, kind: str, owned: Callable[[str], bool]) -> None:
    """Give ``folder`` (output of a townsim without markers) the marker of ``kind``.

    Only a folder holding nothing but files ``owned(relative_path)`` accepts is adopted.

    Raises:
        SimError: ``folder`` holds a file townsim does not write there.
    """
    if _load_marker(folder / MARKER) is not None:
        return
    foreign = sorted(name for name in _listing(folder) if not owned(name))
    if foreign:
        raise SimError(
            f"{folder}: holds '{foreign[0]}', which townsim does not write in a {kind} folder; "
            "it is not adopted (move your files out, or choose another --out)"
        )
    write_marker(folder, kind, files=False)


def write_file_owned(out: Path, kind: str, write: Callable[[Path], object], *, option: str = "--out") -> Path:
    """Write one file atomically with its sidecar marker, replacing only townsim's own file.

    Args:
        out: the file to write.
        kind: output kind recorded in the marker (e.g. "report", "ranking").
        write: writes the content to the path it is given (a hidden staging file); its result is ignored.
        option: the command-line option that named ``out`` (for messages).

    Raises:
        SimError: ``out`` exists and is not an unchanged file townsim wrote.
    """
    if out.is_dir():
        raise SimError(f"{out}: is a folder; give a file path for {option}")
    with output_lock(out, option=option):
        check_replaceable(out, kind, option=option)
        tmp = _staging_path(out, out.suffix)
        sidecar_tmp = _staging_path(out)
        try:
            write(tmp)
            marker = {"token": TOKEN, "kind": kind, "sha256": _sha256(tmp)}
            sidecar_tmp.write_text(json.dumps(marker), encoding="utf-8")
            with held_signals():
                os.replace(sidecar_tmp, _sidecar(out))
                os.replace(tmp, out)
        except BaseException as exc:
            tmp.unlink(missing_ok=True)
            sidecar_tmp.unlink(missing_ok=True)
            if isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS:
                raise write_error(out, exc) from None
            raise
    return out
