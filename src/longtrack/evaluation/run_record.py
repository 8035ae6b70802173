"""What made a result folder: ``<tracker dir>/.longtrack-run.json``.

Resuming reuses finished sequences, so it must never mix two different models in one folder:
the record names the tracker and the weights (file name and SHA-256, or "untrained"), and a
run whose tracker or weights differ from the record's is refused. The record also keeps the
machine and worker count, which the frames-per-second figures depend on, and the ``owner``
(host, process id) of the run that created it. It is a hidden file beside the results; no
official toolkit reads it.

The record is created exclusively (a hard link, which never replaces a file), and only after
the tracker was built: of two runs started together into one folder, one creates it and the
other finds it -- and is refused when its model differs, or shares the folder when it is the
same (``claims`` then gives each sequence to one run only).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import socket
import time
from pathlib import Path

from ..errors import LongtrackError
from ..fileio import create_exclusive, sha256_of

RECORD_NAME = ".longtrack-run.json"
MODEL_KEYS = ("tracker", "dataset", "weights", "options")  # what must match to share a folder


def file_digest(path: str | os.PathLike) -> str:
    try:
        return sha256_of(path)
    except OSError as exc:
        raise LongtrackError(f"cannot read weights file {path}: {exc.strerror or exc}") from None


def folder_digest(path: str | os.PathLike) -> str:
    """SHA-256 over the names and SHA-256s of the visible files directly in a weights folder
    (e.g. nanotrack's two ONNX files), in name order."""
    digest = hashlib.sha256()
    for item in sorted(p for p in Path(path).iterdir() if p.is_file() and not p.name.startswith(".")):
        digest.update(f"{item.name}\0{file_digest(item)}\n".encode("utf-8"))
    return digest.hexdigest()


def weights_digest(path: str | os.PathLike) -> str:
    """The SHA-256 that identifies a weights file or a weights folder."""
    return folder_digest(path) if Path(path).is_dir() else file_digest(path)


def weights_identity(weights_path: str | None, needs_weights: bool) -> dict:
    """``{"kind": "file"|"folder"|"untrained"|"weights-free", "name", "sha256"}``."""
    if weights_path is None:
        return {"kind": "untrained" if needs_weights else "weights-free", "name": None, "sha256": None}
    kind = "folder" if Path(weights_path).is_dir() else "file"
    return {"kind": kind, "name": Path(weights_path).name, "sha256": weights_digest(weights_path)}


def cpu_name() -> str:
    """The CPU model (from /proc/cpuinfo on Linux), else ``platform.processor()``."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def machine_summary(device: str = "cpu") -> str:
    """One line: CPU model, logical cores, device."""
    text = f"{cpu_name()}, {os.cpu_count()} logical cores, {platform.system()} {platform.machine()}"
    return text if device == "cpu" else f"{text}, device {device}"


def make_record(tracker: str, dataset: str, weights: dict, device: str, workers: int,
                options: dict | None = None) -> dict:
    return {"tracker": tracker, "dataset": dataset, "weights": weights, "options": dict(options or {}),
            "device": device, "workers": int(workers), "machine": machine_summary(device)}


def read_record(tracker_dir: str | os.PathLike) -> dict | None:
    """The folder's record, or None when it has none (e.g. published raw results). Its
    ``owner`` (which process created it: only for concurrent runs) is left out."""
    record = _read_raw(tracker_dir)
    return None if record is None else {k: v for k, v in record.items() if k != "owner"}


def _read_raw(tracker_dir: str | os.PathLike) -> dict | None:
    path = Path(tracker_dir) / RECORD_NAME
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise LongtrackError(f"{path}: unreadable run record ({exc}); delete it to start afresh") from None
    if not isinstance(record, dict):
        raise LongtrackError(f"{path}: a run record must be a JSON object")
    return record


def check_record(tracker_dir: str | os.PathLike, record: dict) -> None:
    """Refuse now (before a tracker is built) when the folder's record guards another model's
    results; ``claim_record`` repeats the check when it writes."""
    tracker_dir = Path(tracker_dir)
    old = _read_raw(tracker_dir)
    if old is not None and not _same_model(old, record) and not _replaceable(tracker_dir, old):
        raise _mismatch(tracker_dir, old, record)


def check_or_write_record(tracker_dir: str | os.PathLike, record: dict) -> None:
    """Create ``record`` in a new folder -- exclusively, so of runs started together only one
    creates it and the others compare against it --, or, in an existing one, insist on the same
    tracker, dataset, weights and options (so no two models' sequences ever mix).

    A record beside no results and no claimed sequence, whose run has ended (e.g. every
    sequence failed), locks nothing: it is replaced, again so that only one run can do it.
    Call it once the tracker has been built: a run that cannot build it writes nothing."""
    tracker_dir = Path(tracker_dir)
    path = tracker_dir / RECORD_NAME
    mine = {**record, "owner": run_owner()}
    for _ in range(10):
        if create_exclusive(path, json.dumps(mine, indent=2) + "\n"):
            return
        old = _read_settled(tracker_dir)
        if old is None:
            continue  # replaced by another run between our two looks: look again
        if _same_model(old, record):
            return
        if not _replaceable(tracker_dir, old):
            raise _mismatch(tracker_dir, old, record)
        aside = path.with_name(f"{RECORD_NAME}.{os.getpid()}.replaced")
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            continue
        moved = _load(aside)
        if moved != old:  # another run had just replaced it: give its record back, then stop
            with contextlib.suppress(OSError):
                os.link(aside, path)
            os.unlink(aside)
            raise LongtrackError(f"another run is starting in {tracker_dir} at the same time with another "
                                 "model; choose another --name")
        os.unlink(aside)
    raise LongtrackError(f"{path}: runs keep replacing this record at the same time; choose another --name")


def run_owner() -> dict:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def _load(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _read_settled(tracker_dir: Path) -> dict | None:
    # A record on a file system without hard links is written in place: give its writer a moment.
    for _ in range(20):
        try:
            return _read_raw(tracker_dir)
        except LongtrackError:
            time.sleep(0.1)
    return _read_raw(tracker_dir)


def _same_model(old: dict, record: dict) -> bool:
    old = {"options": {}, **old}  # records written before options existed had none
    return all(old.get(key) == record[key] for key in MODEL_KEYS)


def _replaceable(tracker_dir: Path, old: dict) -> bool:
    """A record guards nothing once its run has ended and left no result and no claim."""
    from .claims import CLAIMS_DIR, owner_alive

    visible = any(not p.name.startswith(".") for p in tracker_dir.iterdir())
    claims = tracker_dir / CLAIMS_DIR
    claimed = claims.is_dir() and any(claims.iterdir())
    return not visible and not claimed and not owner_alive(old.get("owner"), tracker_dir / RECORD_NAME)


def _mismatch(tracker_dir: Path, old: dict, record: dict) -> LongtrackError:
    old = {"options": {}, **old}
    key = next(k for k in MODEL_KEYS if old.get(k) != record[k])
    return LongtrackError(
        f"{tracker_dir} holds results of {key} {_describe(old.get(key))}, not "
        f"{_describe(record[key])}; choose another --out (or --name) or delete that folder")


def _describe(value) -> str:
    if isinstance(value, dict) and "kind" in value:
        if value["kind"] not in ("file", "folder"):
            return value["kind"]
        return f"{value.get('name')} (sha256 {str(value.get('sha256'))[:12]})"
    return repr(value)
