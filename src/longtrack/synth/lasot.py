"""Write a synthetic sequence in the LaSOT layout, so the LaSOT loader and scorer read it as is.

    root/<class>/<class>-<n>/img/00000001.jpg ...
                            groundtruth.txt      x,y,w,h per line; absent frames 0,0,0,0
                            full_occlusion.txt   one line of comma-separated 0/1 (as LaSOT)
                            out_of_view.txt      idem
                            nlp.txt              a one-line description of the target
                            meta.json            SynthSequence.meta(): generator, events, all objects

A sequence folder appears complete or not at all: it is written into a hidden temporary
folder next to it and renamed into place at the end. The temporary's name holds its process
(``fileio.make_temporary_dir``), so the next ``longtrack synth`` deletes one a killed run left.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
from tqdm import tqdm

from ..errors import LongtrackError
from ..fileio import make_temporary_dir
from .sequence import SynthSequence

JPEG_QUALITY = 90


def format_number(value: float) -> str:
    """Shortest exact text of a box value rounded to 2 decimals: ``12.5``, ``100``, ``0``."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def groundtruth_text(boxes: np.ndarray) -> str:
    return "".join(",".join(format_number(v) for v in box) + "\n" for box in boxes)


def flags_text(flags: np.ndarray) -> str:
    return ",".join("1" if f else "0" for f in flags)


def encode_jpeg(frame_rgb: np.ndarray) -> bytes:
    ok, buffer = cv2.imencode(".jpg", np.ascontiguousarray(frame_rgb[:, :, ::-1]),
                              [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise LongtrackError("JPEG encoding failed")
    return buffer.tobytes()


def _describe(seq: SynthSequence) -> str:
    return seq.plan.objects[0].appearance.phrase() + "\n"


def write_lasot(seq: SynthSequence, root, progress: bool | Callable[[int], None] = False) -> Path:
    """Render and write ``seq`` under ``root``; returns the sequence folder.

    ``progress``: True shows a tqdm bar; a callable is called with 1 after each frame (to drive
    an outer bar).
    """
    root = Path(root)
    parent = root / seq.class_name
    final = parent / seq.name
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = make_temporary_dir(final)  # names its process: a killed run's is cleaned by the next
    except OSError as exc:
        raise LongtrackError(f"cannot write under {root}: {exc.strerror or exc}") from exc
    try:
        os.chmod(tmp, 0o755)
        images = tmp / "img"
        images.mkdir()
        tick = progress if callable(progress) else None
        frames = tqdm(range(len(seq)), desc=seq.name, unit="frame", disable=progress is not True, leave=False)
        for i in frames:
            (images / f"{i + 1:08d}.jpg").write_bytes(encode_jpeg(seq.render(i)))
            if tick is not None:
                tick(1)
        (tmp / "full_occlusion.txt").write_text(flags_text(seq.full_occlusion), encoding="utf-8")
        (tmp / "out_of_view.txt").write_text(flags_text(seq.out_of_view), encoding="utf-8")
        (tmp / "nlp.txt").write_text(_describe(seq), encoding="utf-8")
        (tmp / "meta.json").write_text(json.dumps(seq.meta(), sort_keys=True, separators=(",", ":")),
                                       encoding="utf-8")
        (tmp / "groundtruth.txt").write_text(groundtruth_text(seq.boxes), encoding="utf-8")
        _replace_folder(tmp, final)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise LongtrackError(f"cannot write {final}: {exc.strerror or exc}") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _replace_folder(new: Path, final: Path) -> None:
    """Put ``new`` at ``final``; an older folder there is moved aside first, then deleted."""
    old = None
    if final.exists():
        old = make_temporary_dir(final)
        os.replace(final, old / final.name)
    os.replace(new, final)
    if old is not None:
        with contextlib.suppress(OSError):
            shutil.rmtree(old)
