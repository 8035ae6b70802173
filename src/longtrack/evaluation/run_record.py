"""What made a result folder: ``<tracker dir>/.longtrack-run.json``.

Resuming reuses finished sequences, so it must never mix two different models in one folder:
the record names the tracker and the weights (file name and SHA-256, or "untrained"), and a
run whose tracker or weights differ from the record's is refused. The record also keeps the
machine and worker count, which the frames-per-second figures depend on. It is a hidden file
beside the results; no official toolkit reads it.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path

from ..errors import LongtrackError
from ..fileio import atomic_write_text

RECORD_NAME = ".longtrack-run.json"


def file_digest(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise LongtrackError(f"cannot read weights file {path}: {exc.strerror or exc}") from None
    return digest.hexdigest()


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
    """The folder's record, or None when it has none (e.g. published raw results)."""
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


def check_or_write_record(tracker_dir: str | os.PathLike, record: dict) -> None:
    """Write ``record`` into a new folder; in an existing one, insist on the same tracker,
    dataset and weights (so a resumed run never mixes two models' sequences)."""
    tracker_dir = Path(tracker_dir)
    old = read_record(tracker_dir)
    if old is None or not _holds_results(tracker_dir):
        # A record only guards results: one left by a run that failed before its first sequence
        # (e.g. a weights folder missing a file) must not lock the folder.
        atomic_write_text(tracker_dir / RECORD_NAME, json.dumps(record, indent=2) + "\n")
        return
    old = {"options": {}, **old}  # records written before options existed had none
    for key in ("tracker", "dataset", "weights", "options"):
        if old.get(key) != record[key]:
            raise LongtrackError(
                f"{tracker_dir} holds results of {key} {_describe(old.get(key))}, not "
                f"{_describe(record[key])}; choose another --out (or --name) or delete that folder")


def _holds_results(tracker_dir: Path) -> bool:
    return any(p.name != RECORD_NAME for p in tracker_dir.iterdir())


def _describe(value) -> str:
    if isinstance(value, dict) and "kind" in value:
        if value["kind"] not in ("file", "folder"):
            return value["kind"]
        return f"{value.get('name')} (sha256 {str(value.get('sha256'))[:12]})"
    return repr(value)
