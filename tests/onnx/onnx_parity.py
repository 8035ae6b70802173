"""What the ONNX parity tests share: a real-val clip to track, and the tolerance rule."""
from pathlib import Path

import cv2
import torch


def read_clip(shared_dir: Path, sequence: str, frames: int):
    """The first ``frames`` RGB frames of real-val ``sequence`` and its first box (xywh)."""
    folder = shared_dir / "data" / "real-val" / sequence
    paths = sorted((folder / "img").glob("*.jpg"))[:frames]
    images = [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in paths]
    first = [float(v) for v in (folder / "groundtruth.txt").read_text().splitlines()[0].split(",")]
    return images, first


def close(got: torch.Tensor, want: torch.Tensor, tolerance: float, relative: float | None = None) -> bool:
    """Max |got - want| within ``tolerance x max(1, max |want|)`` and, with ``relative``, also within
    ``relative x max |want|`` (outputs near zero, such as a random network's score maps)."""
    assert got.shape == want.shape
    error, scale = float((got - want).abs().max()), float(want.abs().max())
    return error <= tolerance * max(1.0, scale) and (relative is None or error <= relative * scale + 1e-12)
