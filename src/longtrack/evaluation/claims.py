"""Sequence claims: which run is tracking which sequence of a result folder right now.

Runs into one folder may be concurrent: two terminals, or the jobs of a cluster array on a
shared file system. Before tracking a sequence, a run creates the claim
``<tracker dir>/.longtrack-claims/<sequence>.<n>`` exclusively (``fileio.create_exclusive``),
holding its host and process id; once the sequence's result files are written (or it failed)
the run deletes its claims. A run that finds a live claim leaves that sequence to its owner.

A claim is live while its owner runs: on the same host, while the process exists; from another
host, while the owner keeps touching it (every ``HEARTBEAT_S`` while it tracks) -- a claim
untouched for ``STALE_AFTER_S`` belongs to a run that was killed. A dead run's claim ``n`` is
taken over by creating ``n + 1``: creation is the only step that decides, so of two runs that
find the same dead claim exactly one wins, and no claim is ever deleted by a run it is not its.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..fileio import create_exclusive

CLAIMS_DIR = ".longtrack-claims"
HEARTBEAT_S = 30.0
STALE_AFTER_S = 600.0


def claim_stem(sequence: str) -> str:
    """A file name for a sequence name (any characters; distinct names stay distinct)."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", sequence)[:100]
    return safe if safe == sequence else f"{safe}-{zlib.crc32(sequence.encode('utf-8')):08x}"


def _owner() -> dict:
    return {"host": socket.gethostname(), "pid": os.getpid(), "time": time.time()}


def owner_alive(owner, path: Path) -> bool:
    """Whether the run ``owner`` (``{"host", "pid"}``, as written in ``path``) is still running:
    on this host, while its process exists; on another, while ``path`` was touched within
    ``STALE_AFTER_S``. Unknown owners count by the file's age too."""
    try:
        age = time.time() - path.stat().st_mtime
    except OSError:
        age = 0.0
    try:
        host, pid = str(owner["host"]), int(owner["pid"])
    except (KeyError, TypeError, ValueError):
        return age < STALE_AFTER_S
    if host != socket.gethostname():
        return age < STALE_AFTER_S
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: the process exists
        pass
    return True


def _alive(path: Path) -> tuple[bool, str]:
    """(live?, who) for a claim file; an unreadable or half-written claim counts by its age."""
    if not path.exists():
        return False, "nobody"
    try:
        owner = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        owner = None
    who = f"process {owner['pid']} on {owner['host']}" if isinstance(owner, dict) and "pid" in owner \
        and "host" in owner else "an unknown run"
    return owner_alive(owner, path), who


@dataclass
class Claim:
    """This process's claim on one sequence; ``heartbeat()`` while tracking, ``release()`` after."""

    folder: Path
    stem: str
    index: int
    _touched: float = 0.0

    @property
    def path(self) -> Path:
        return self.folder / f"{self.stem}.{self.index}"

    def heartbeat(self) -> None:
        now = time.monotonic()
        if now - self._touched >= HEARTBEAT_S:
            self._touched = now
            with contextlib.suppress(OSError):
                os.utime(self.path)

    def release(self) -> None:
        """Delete this claim and the dead ones it replaced (never a later run's)."""
        for index, path in _claims(self.folder, self.stem):
            if index <= self.index:
                with contextlib.suppress(OSError):
                    path.unlink()
        with contextlib.suppress(OSError):  # the last claim gone: leave no folder behind
            self.folder.rmdir()


def _claims(folder: Path, stem: str) -> list[tuple[int, Path]]:
    pattern = re.compile(re.escape(stem) + r"\.([0-9]+)")
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    found = [(int(m.group(1)), folder / name) for name in names if (m := pattern.fullmatch(name))]
    return sorted(found)


def try_claim(tracker_dir: str | os.PathLike, sequence: str) -> Claim | str:
    """Claim ``sequence`` for this process: a ``Claim``, or a description of the live run that
    holds it (then leave the sequence alone)."""
    folder = Path(tracker_dir) / CLAIMS_DIR
    stem = claim_stem(sequence)
    text = json.dumps(_owner()) + "\n"
    while True:
        existing = _claims(folder, stem)
        index = 0
        if existing:
            top, path = existing[-1]
            alive, who = _alive(path)
            if alive:
                return who
            index = top + 1
        if create_exclusive(folder / f"{stem}.{index}", text):
            claim = Claim(folder, stem, index)
            claim._touched = time.monotonic()
            return claim
        # Another run created that claim first: look at it again.
