"""A tiny sequence in the LaSOT layout for tests of the tools that read training roots: a
textured 16x16 square moving right over noise."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

SIZE = (96, 72)  # frame width, height


def write_lasot_sequence(root: Path, name: str, frames: int, seed: int, step: int = 1, absent=()) -> None:
    """``root/<class>/<name>/``: the square moves ``step`` px a frame and is gone (fully occluded,
    box 0,0,0,0) in the frames ``absent``."""
    rng = np.random.default_rng(seed)
    folder = Path(root) / name.rsplit("-", 1)[0] / name
    (folder / "img").mkdir(parents=True)
    background = rng.integers(0, 90, size=(SIZE[1], SIZE[0], 3), dtype=np.uint8)
    patch = rng.integers(120, 255, size=(16, 16, 3), dtype=np.uint8)
    rows = []
    for i in range(frames):
        frame = background.copy()
        x, y = 20 + step * i, 28
        if i not in absent:
            frame[y:y + 16, x:x + 16] = patch
        cv2.imwrite(str(folder / "img" / f"{i + 1:08d}.jpg"), frame)
        rows.append("0,0,0,0" if i in absent else f"{x},{y},16,16")
    (folder / "groundtruth.txt").write_text("\n".join(rows) + "\n")
    (folder / "full_occlusion.txt").write_text(",".join("1" if i in absent else "0" for i in range(frames)) + "\n")
    (folder / "out_of_view.txt").write_text(",".join("0" * frames) + "\n")
