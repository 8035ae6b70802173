"""What the ONNX parity tests share: a real-val clip to track, and the tolerance rule."""
import json
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


def only_export(cache: Path) -> Path:
    """The one export folder a tracker built with ``runtime="onnx"`` left in an empty cache (no temporaries)."""
    (folder,) = [p for p in cache.iterdir() if not p.name.startswith(".")]
    return folder


def export_command_manifest(tracker: str, weights: str | None, out: Path, cached: Path, reference_model,
                            capsys, first_graph: str) -> dict:
    """``longtrack export --tracker TRACKER [--weights W] --out OUT`` succeeds, names ``first_graph``,
    and writes the manifest of the tracker's cached export, whose digest is the torch network's."""
    from longtrack.cli import main
    from longtrack.export.folder import MANIFEST, network_digest

    assert main(["export", "--tracker", tracker, *(["--weights", weights] if weights else []), "--out", str(out)]) == 0
    assert f"{first_graph}.onnx" in capsys.readouterr().out
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest == json.loads((cached / MANIFEST).read_text())
    assert manifest["network_digest"] == network_digest(reference_model)
    return manifest
