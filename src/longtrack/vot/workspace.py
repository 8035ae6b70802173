"""A ready, offline VOT toolkit workspace (vot-toolkit 0.9.0) from any dataset longtrack reads.

Layout written under ``out``::

    config.yaml                  stack + registry (the toolkit's workspace marker, written last)
    longtrack-longterm.yaml      the stack: the ``longterm`` experiment only, no ``dataset:`` key
    trackers.ini                 one traxpython entry per tracker, run by this interpreter
    sequences/list.txt           sequence names, in the dataset's order
    sequences/<seq>/sequence     name, fps, format, channels.color, width, height, length
    sequences/<seq>/groundtruth.txt   x,y,w,h (or the VOT polygon) per frame; ``0`` = absent
    sequences/<seq>/<attr>.tag   per-frame 0/1 attributes (full_occlusion, out_of_view, ...)
    sequences/<seq>/color/00000001.jpg ...  the frames, hard-linked (copied across file systems)

Why these choices (vot-toolkit 0.9.0, ``vot/dataset/common.py``): a stack without ``dataset:``
never downloads; ``0`` and a row of NaN both read as ``Special(0)`` (not visible); the built-in
long-term stacks' ``redetection`` experiment fails offline, so the stack has ``longterm`` only.
Each sequence folder is built under a temporary name and renamed into place, and
``config.yaml`` is written last, so an interrupted run never leaves a workspace that looks ready.
Bad input (weights, first regions, frames, control characters) is refused before anything is
written (``workspace_checks``).
"""
from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..datasets.sequence import Sequence
from ..errors import LongtrackError
from ..fileio import atomic_write_text
from .trax_server import ENV_DEVICE, ENV_LOG, ENV_TRACKER, ENV_WEIGHTS
from .workspace_checks import check_first_region, check_frames, check_text, check_trackers

STACK_FILE = "longtrack-longterm.yaml"
IMAGE_MODES = ("link", "copy", "symlink")
DEFAULT_TIMEOUT_S = 120  # per TraX request; the toolkit's 30 s default is tight for CPU models
_ANALYSES = ("  longterm:\n    type: unsupervised\n    repetitions: 1\n    analyses:\n"
             "      - type: average_tpr\n        name: average_tpr\n"
             "      - type: pr_curve\n      - type: f_curve\n")


@dataclass(frozen=True)
class WorkspaceTracker:
    """A longtrack tracker as a VOT tracker entry: registry name, weights (None: shipped
    default) and device."""

    name: str
    weights: str | None = None
    device: str = "cpu"

    @classmethod
    def parse(cls, text: str, device: str = "cpu") -> "WorkspaceTracker":
        """``NAME`` or ``NAME=WEIGHTS`` (the weights path is made absolute)."""
        name, sep, weights = text.partition("=")
        name = name.strip()
        if not name or (sep and not weights.strip()):
            raise LongtrackError(f"--trackers takes NAME or NAME=WEIGHTS, got {text!r}")
        return cls(name, str(Path(weights.strip()).expanduser().resolve()) if sep else None, device)

    @property
    def identifier(self) -> str:
        """The tracker's identifier in the toolkit (letters, digits, ``-`` and ``_`` only)."""
        return vot_identifier(self.name)


def vot_identifier(name: str) -> str:
    """A longtrack tracker name as a vot-toolkit identifier (``tanet:csrt`` -> ``tanet_csrt``)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)


def _ini_value(value: str) -> str:
    # vot-toolkit reads trackers.ini with configparser's %-interpolation; a newline would start
    # a key of its own.
    return check_text(value, "trackers.ini value").replace("%", "%%")


def trackers_ini(trackers: list[WorkspaceTracker], workspace: Path, python: str = sys.executable,
                 timeout: int = DEFAULT_TIMEOUT_S) -> str:
    """The ``trackers.ini`` text: one ``traxpython`` entry per tracker, started as
    ``<python> -m longtrack.vot.trax_server`` with the tracker chosen by ``env_`` variables."""
    import longtrack

    # The toolkit replaces PYTHONPATH with ``paths``: point it at the longtrack being used now.
    package_root = Path(longtrack.__file__).resolve().parent.parent
    sections = []
    for t in trackers:
        lines = [f"[{t.identifier}]", f"label = {_ini_value(t.name)}", "protocol = traxpython",
                 "command = longtrack.vot.trax_server", f"python = {_ini_value(python)}",
                 f"paths = {_ini_value(str(package_root))}", f"timeout = {int(timeout)}",
                 f"env_{ENV_TRACKER} = {_ini_value(t.name)}", f"env_{ENV_DEVICE} = {_ini_value(t.device)}",
                 f"env_{ENV_LOG} = {_ini_value(str(server_log_path(workspace, t)))}"]
        if t.weights is not None:
            lines.append(f"env_{ENV_WEIGHTS} = {_ini_value(t.weights)}")
        sections.append("\n".join(lines) + "\n")
    return "\n".join(sections)


def server_log_path(workspace: Path, tracker: WorkspaceTracker) -> Path:
    """Where the TraX server of ``tracker`` logs (beside the toolkit's own logs)."""
    return Path(workspace).resolve() / "logs" / f"longtrack-server-{tracker.identifier}.log"


def stack_yaml(title: str) -> str:
    """The offline long-term stack: the ``longterm`` experiment of VOT-LT, no dataset URL."""
    return f"title: {_yaml_string(title)}\nexperiments:\n{_ANALYSES}"


def config_yaml() -> str:
    return f"registry:\n  - .\nstack: {STACK_FILE}\nsequences: sequences\n"


def _yaml_string(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def groundtruth_text(seq: Sequence) -> str:
    """One region per line: ``x,y,w,h`` (the VOT polygon where the dataset has one) or ``0``
    where the target is absent."""
    from ..evaluation.value_files import format_number

    if not seq.labelled.all():
        raise LongtrackError(f"{seq.name}: only {int(seq.labelled.sum())} of {len(seq)} frames are annotated; "
                             "a VOT workspace needs a region (or absence) for every frame")
    if seq.absent[0]:
        raise LongtrackError(f"{seq.name}: the target is absent in the first frame; VOT initializes there")
    regions = seq.polygons if seq.polygons is not None else seq.boxes
    lines = []
    for i, (row, absent) in enumerate(zip(regions, seq.absent)):
        if absent:
            lines.append("0")
            continue
        if not np.isfinite(row).all():
            raise LongtrackError(f"{seq.name}: frame {i + 1} is marked visible but its region is {row.tolist()}")
        lines.append(",".join(format_number(v) for v in row))
    return "".join(line + "\n" for line in lines)


def _frame_tags(seq: Sequence) -> dict[str, np.ndarray]:
    """Per-frame 0/1 attributes of the sequence, as VOT ``.tag`` files take them."""
    tags = {}
    for name, values in seq.attributes.items():
        arr = np.asarray(values)
        if arr.shape == (len(seq),) and (arr.dtype == bool or np.isin(arr, (0, 1)).all()):
            tags[re.sub(r"[^A-Za-z0-9_-]", "_", str(name))] = arr.astype(bool)
    return tags


def _image_size(seq: Sequence) -> tuple[int, int]:
    if seq.image_size is not None:
        return int(seq.image_size[0]), int(seq.image_size[1])
    frame = seq.frame(0)
    return frame.shape[1], frame.shape[0]


def _frame_extension(seq: Sequence) -> str | None:
    """The extension every frame file shares (``.jpg``...), or None when they differ or the
    frames need the sequence's own decoder: those frames are then written as PNG."""
    if seq.loader is not None:
        return None
    extensions = {Path(f).suffix.lower() for f in seq.frames}
    return extensions.pop() if len(extensions) == 1 and extensions <= {".jpg", ".jpeg", ".png", ".bmp"} else None


def _place_frame(source: Path, target: Path, mode: str) -> None:
    if mode == "symlink":
        os.symlink(Path(source).resolve(), target)
        return
    if mode == "link":
        try:
            os.link(source, target)
            return
        except OSError:  # another file system, or links not allowed: copy instead
            pass
    shutil.copyfile(source, target)


def _write_png(path: Path, rgb: np.ndarray) -> None:
    import cv2

    ok, data = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise LongtrackError(f"cannot encode frame {path.name} as PNG")
    data.tofile(path)


def write_sequence(seq: Sequence, sequences_dir: Path, images: str = "link", progress=None) -> Path:
    """Write one sequence folder in the VOT layout (see the module docstring); returns it."""
    if images not in IMAGE_MODES:
        raise LongtrackError(f"images must be one of {', '.join(IMAGE_MODES)}, got {images!r}")
    if not seq.frames:
        raise LongtrackError(f"{seq.name}: the sequence has no frame files")
    gt = groundtruth_text(seq)
    width, height = _image_size(seq)
    extension = _frame_extension(seq)
    pattern = f"color/%08d{extension or '.png'}"
    final = sequences_dir / seq.name
    tmp = sequences_dir / f".{seq.name}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "color").mkdir(parents=True)
    try:
        for i, source in enumerate(seq.frames):
            target = tmp / (pattern % (i + 1))
            if extension is None:
                _write_png(target, seq.frame(i))
            else:
                _place_frame(Path(source), target, images)
            if progress is not None:
                progress(1)
        props = {"name": seq.name, "fps": int(round(float(seq.meta.get("fps") or 30))), "format": "default",
                 "channels.color": pattern, "width": width, "height": height, "length": len(seq)}
        (tmp / "sequence").write_text("".join(f"{k}={v}\n" for k, v in props.items()), encoding="utf-8")
        (tmp / "groundtruth.txt").write_text(gt, encoding="utf-8")
        for name, flags in _frame_tags(seq).items():
            (tmp / f"{name}.tag").write_text("".join("1\n" if f else "0\n" for f in flags), encoding="utf-8")
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _check_names(sequences: list[Sequence]) -> None:
    names = [s.name for s in sequences]
    if not names:
        raise LongtrackError("no sequences to put in the workspace")
    for n in names:
        check_text(n, "sequence name")
    bad = [n for n in names if not n or n.startswith(".") or "/" in n or "\\" in n or n.strip() != n]
    if bad:
        raise LongtrackError(f"sequence name {bad[0]!r} cannot be a VOT sequence folder name")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise LongtrackError(f"two sequences are named {duplicates[0]!r}; VOT needs unique names")


def write_workspace(sequences: list[Sequence], out: str | os.PathLike, trackers: list[WorkspaceTracker], *,
                    title: str = "longtrack long-term", images: str = "link", force: bool = False,
                    python: str = sys.executable, timeout: int = DEFAULT_TIMEOUT_S,
                    progress: bool | None = None) -> Path:
    """Write a VOT workspace for ``sequences`` under ``out`` and return its path.

    Args:
        sequences: from ``longtrack.datasets.load_dataset`` (dense annotations, target visible
            in the first frame).
        out: the workspace folder (created). An existing workspace (``config.yaml``) is
            rewritten only with ``force``; its ``results/`` and ``logs/`` are kept.
        trackers: the trackers.ini entries.
        images: ``link`` (hard links, copies across file systems), ``copy`` or ``symlink``.
        python: the interpreter the toolkit starts the TraX server with.
        timeout: seconds the toolkit waits for each TraX reply.
    """
    from tqdm import tqdm

    out = Path(out).expanduser().resolve()
    _check_names(sequences)
    if not trackers:
        raise LongtrackError("name at least one tracker for trackers.ini")
    if out.exists() and not out.is_dir():
        raise LongtrackError(f"--out {out} is a file, expected a folder")
    if (out / "config.yaml").exists() and not force:
        raise LongtrackError(f"{out} is already a VOT workspace; use --force to rewrite it "
                             "(results/ and logs/ are kept)")
    from ..registry import get_tracker_spec

    for t in trackers:
        get_tracker_spec(t.name)  # an unknown name fails now, not inside the toolkit
    for seq in sequences:  # fail on a sequence VOT cannot hold before linking any frame
        groundtruth_text(seq)
    identifiers = [t.identifier for t in trackers]
    if len(set(identifiers)) != len(identifiers):
        raise LongtrackError(f"two trackers map to the same VOT identifier: {', '.join(identifiers)}")
    check_text(out, "workspace path")
    check_text(python, "python interpreter path")
    check_text(title, "stack title")
    for seq in sequences:
        check_first_region(seq, _image_size(seq))
    check_trackers(trackers)  # builds each: bad weights fail now, not in `vot evaluate`
    total = sum(len(s) for s in sequences)
    show = sys.stderr.isatty() if progress is None else progress
    with tqdm(total=total, unit="frame", desc="checking frames", disable=not show) as bar:
        for seq in sequences:  # before anything is written: a corrupt frame fails now
            bar.set_postfix_str(seq.name)
            check_frames(seq, progress=bar.update)
    try:
        (out / "sequences").mkdir(parents=True, exist_ok=True)
        (out / "results").mkdir(exist_ok=True)
        (out / "logs").mkdir(exist_ok=True)
    except OSError as exc:
        raise LongtrackError(f"cannot create the workspace {out}: {exc.strerror or exc}") from None
    with tqdm(total=total, unit="frame", desc="vot-workspace", disable=not show) as bar:
        for seq in sequences:
            bar.set_postfix_str(seq.name)
            write_sequence(seq, out / "sequences", images, progress=bar.update)
    atomic_write_text(out / "sequences" / "list.txt", "".join(f"{s.name}\n" for s in sequences))
    atomic_write_text(out / STACK_FILE, stack_yaml(title))
    atomic_write_text(out / "trackers.ini", trackers_ini(trackers, out, python, timeout))
    atomic_write_text(out / "config.yaml", config_yaml())
    return out
