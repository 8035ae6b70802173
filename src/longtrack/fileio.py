"""Atomic file writes: a temporary file in the same folder, then ``os.replace``.

An interrupted run therefore never leaves a half-written file that looks complete. Every
temporary is hidden and names its owner: ``.<name>.<pid>-<host>.<random>.tmp``. A process
killed outright (``kill -9``, out of memory) cannot delete its own; the next run that writes
the same output (``check_writable``) or the same folder (``clean_stale_temporaries``) deletes
those whose owner is gone. Only temporaries of this host whose process no longer exists are
deleted: one of another host (a cluster node sharing the file system) may still be in use.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import LongtrackError

NAME_PART = 80  # characters of the target's name kept in a temporary's name (file names stop at 255 bytes)
_TEMP = re.compile(r"^\.(?P<name>.*)\.(?P<pid>[0-9]+)-(?P<host>[A-Za-z0-9_-]*)\.[^.]+\.tmp$")


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _host_tag() -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())[:32]


def temporary_prefix(name: str) -> str:
    """The start of a temporary's name for target ``name``: ``.<name>.<pid>-<host>.``."""
    return f".{name[:NAME_PART]}.{os.getpid()}-{_host_tag()}."


def _owner_gone(pid: int, host: str) -> bool:
    if host != _host_tag() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # e.g. EPERM: the process exists, it is someone else's
        return False
    return False


def is_stale_temporary(path: str | os.PathLike, name: str | None = None) -> bool:
    """True for a temporary of ours (of target ``name``, when given) whose process is gone."""
    match = _TEMP.match(Path(path).name)
    if match is None or (name is not None and match.group("name") != name[:NAME_PART]):
        return False
    return _owner_gone(int(match.group("pid")), match.group("host"))


def clean_stale_temporaries(folder: str | os.PathLike, name: str | None = None, recursive: bool = False) -> list[Path]:
    """Delete the stale temporaries (files or folders) in ``folder`` (of target ``name`` only,
    when given; in sub-folders too with ``recursive``); returns what was deleted."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    try:
        entries = list(folder.rglob(".*.tmp") if recursive else folder.glob(".*.tmp"))
    except OSError:
        return []
    for entry in entries:
        if not is_stale_temporary(entry, name):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
    return removed


def make_temporary_dir(final: str | os.PathLike) -> Path:
    """A new hidden folder beside ``final`` to build it in (then ``os.replace`` it into place)."""
    final = Path(final)
    return Path(tempfile.mkdtemp(prefix=temporary_prefix(final.name), suffix=".tmp", dir=final.parent))


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=temporary_prefix(path.name), suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise LongtrackError(f"cannot write {path}: {exc.strerror or exc}") from exc
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_current_umask())  # mkstemp makes 0600; results are normal files
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs):
    """``open`` for writing that only replaces ``path`` once the block finished."""
    if not any(m in mode for m in "wx"):
        raise ValueError("atomic_open is for writing")
    with atomic_path(path) as tmp:
        with open(tmp, mode.replace("x", "w"), **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def create_exclusive(path: str | os.PathLike, text: str) -> bool:
    """Create ``path`` holding ``text`` only if it does not exist yet; True when this call
    created it. Atomic, also between hosts on a shared file system: the text goes to a
    temporary that is then hard-linked to ``path`` (a link never replaces a file), so no reader
    ever sees a partly written file."""
    path = Path(path)
    for attempt in range(5):
        try:
            return _link_new(path, text)
        except FileNotFoundError:  # the folder was removed meanwhile (an emptied claims folder)
            if attempt == 4:
                raise LongtrackError(f"cannot write {path}: its folder keeps disappearing") from None
    raise AssertionError("unreachable")


def _link_new(path: Path, text: str) -> bool:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=temporary_prefix(path.name), suffix=".tmp", dir=path.parent)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise LongtrackError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_current_umask())
        try:
            os.link(tmp, path)
            return True
        except FileExistsError:
            return False
        except FileNotFoundError:
            raise
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise LongtrackError(f"cannot create {path}: {exc.strerror or exc}") from exc
            return _create_exclusive_without_links(path, text)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _create_exclusive_without_links(path: Path, text: str) -> bool:
    # File systems without hard links: O_EXCL still makes one creator win.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    return True


def check_writable(path: str | os.PathLike) -> Path:
    """Fail early (before minutes of work) when ``path`` cannot be written: creates (then
    deletes) the temporary file the final write will use, which no permission bit, read-only
    mount or name length can fool. Also deletes stale temporaries of ``path``."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    shown = path.name if len(path.name) <= 60 else path.name[:40] + "..."
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise LongtrackError(f"cannot create folder {parent} for {shown}: it, or a folder above it, "
                             "is a file") from None
    except OSError as exc:
        raise LongtrackError(f"cannot create folder {parent} for {shown}: {exc.strerror or exc}") from exc
    try:
        limit = os.pathconf(parent, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        limit = 255
    if len(os.fsencode(path.name)) > limit:
        raise LongtrackError(f"output file name {shown} is longer than the {limit} bytes the file system allows")
    if path.is_dir():
        raise LongtrackError(f"output path {path} is a folder, expected a file")
    clean_stale_temporaries(parent, path.name)
    try:
        fd, probe = tempfile.mkstemp(prefix=temporary_prefix(path.name), suffix=".tmp", dir=parent)
    except OSError as exc:
        raise LongtrackError(f"cannot write {path}: {exc.strerror or exc}") from exc
    os.close(fd)
    os.unlink(probe)
    return path


def check_writable_folder(folder: str | os.PathLike) -> Path:
    """``check_writable`` for an output folder: it can be created and files written in it."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise LongtrackError(f"output folder {folder} is a file")
    check_writable(folder / "longtrack-probe")
    return folder


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
