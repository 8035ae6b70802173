"""Small hand-made benchmark folders for the reader tests (images are tiny JPEGs)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def write_images(folder: Path, names, size=(16, 12)) -> list[Path]:
    """Write small JPEG frames (``size`` = width, height) named ``names`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    width, height = size
    paths = []
    for i, name in enumerate(names):
        image = np.full((height, width, 3), (i * 37) % 255, dtype=np.uint8)
        ok, data = cv2.imencode(Path(name).suffix, image)
        assert ok
        path = folder / name
        path.write_bytes(data.tobytes())
        paths.append(path)
    return paths


def format_rows(rows, sep: str = ",", newline: str = "\n") -> str:
    """Rows of numbers as annotation text (``%g``), one line per row."""
    return "".join(sep.join(f"{v:g}" for v in row) + newline for row in rows)


def random_boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    xy = rng.integers(0, 300, size=(n, 2))
    wh = rng.integers(1, 80, size=(n, 2))
    return np.concatenate([xy, wh], axis=1).astype(float)


def write_lasot_sequence(root: Path, name: str, boxes: np.ndarray, full_occlusion, out_of_view,
                         frames: bool = False, nlp: str | None = None) -> Path:
    """``root/<class>/<name>/`` in the LaSOT dataset layout."""
    folder = root / name.rsplit("-", 1)[0] / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "groundtruth.txt").write_text(format_rows(boxes))
    (folder / "full_occlusion.txt").write_text(",".join(str(int(v)) for v in full_occlusion) + "\n")
    (folder / "out_of_view.txt").write_text(",".join(str(int(v)) for v in out_of_view) + "\n")
    if nlp is not None:
        (folder / "nlp.txt").write_text(nlp + "\n")
    if frames:
        write_images(folder / "img", [f"{i:08d}.jpg" for i in range(1, len(boxes) + 1)])
    return folder
