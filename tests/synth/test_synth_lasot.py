"""Writing synthetic sequences in the LaSOT layout, and reading them back."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from longtrack.datasets.lasot import load_sequence_dir
from longtrack.datasets.synthetic import load_sequence as load_synthetic
from longtrack.synth import make_sequence, write_lasot
from longtrack.synth.lasot import format_number


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _parse_groundtruth(path: Path) -> np.ndarray:
    lines = path.read_text(encoding="utf-8").splitlines()
    return np.array([[float(v) for v in line.split(",")] for line in lines], dtype=np.float64)


def _parse_flags(path: Path) -> np.ndarray:
    text = path.read_text(encoding="utf-8")
    assert "\n" not in text.strip(), "LaSOT flags are one comma-separated line"
    return np.array([int(v) for v in text.strip().split(",")], dtype=int)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    seq = make_sequence("mini", "test", 1, num_frames=110)
    root = tmp_path_factory.mktemp("lasot")
    folder = write_lasot(seq, root)
    return seq, root, folder


def test_layout_and_round_trip_with_own_parser(written):
    seq, root, folder = written
    assert folder == root / seq.class_name / seq.name
    images = sorted((folder / "img").iterdir())
    assert [p.name for p in images] == [f"{i:08d}.jpg" for i in range(1, len(seq) + 1)]
    boxes = _parse_groundtruth(folder / "groundtruth.txt")
    np.testing.assert_array_equal(boxes, seq.boxes)  # exact: boxes are rounded to 2 decimals
    np.testing.assert_array_equal(_parse_flags(folder / "full_occlusion.txt"), seq.full_occlusion.astype(int))
    np.testing.assert_array_equal(_parse_flags(folder / "out_of_view.txt"), seq.out_of_view.astype(int))
    assert seq.out_of_view.any()
    assert (boxes[seq.absent] == 0).all()
    assert not list(root.rglob(".*")), "no temporary folders left behind"


def test_images_are_the_rendered_frames(written):
    seq, _, folder = written
    for i in (0, 55, len(seq) - 1):
        image = cv2.imread(str(folder / "img" / f"{i + 1:08d}.jpg"))[:, :, ::-1]
        assert image.shape == (seq.height, seq.width, 3)
        error = np.abs(image.astype(float) - seq.render(i).astype(float)).mean()
        assert error < 6.0  # JPEG at quality 90


def test_benchmark_loaders_read_it_back(written):
    seq, root, _ = written
    loaded = load_sequence_dir(root, seq.name)
    assert len(loaded) == len(seq) and len(loaded.frames) == len(seq)
    np.testing.assert_array_equal(loaded.boxes, seq.boxes)
    np.testing.assert_array_equal(loaded.absent, seq.absent)
    np.testing.assert_array_equal(loaded.attributes["out_of_view"], seq.out_of_view)
    synthetic = load_synthetic(root, seq.name)
    assert synthetic.meta["seed"] == seq.seed and synthetic.image_size == (seq.width, seq.height)


def test_meta_json_has_every_object(written):
    seq, _, folder = written
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    assert meta == json.loads(json.dumps(seq.meta()))
    assert {k: meta[k] for k in ("preset", "split", "index", "seed", "size", "num_frames")} == {
        "preset": "mini", "split": "test", "index": 1, "seed": seq.seed, "size": [seq.width, seq.height],
        "num_frames": len(seq)}
    assert len(meta["objects"]) == len(seq.objects) >= 3
    for obj, expected in zip(meta["objects"], seq.objects):
        assert obj["identity"] == expected.identity and obj["class"] == expected.class_name
        np.testing.assert_array_equal(np.array(obj["boxes"]), expected.boxes)
        np.testing.assert_array_equal(np.array(obj["visible"], dtype=bool), expected.visible)
    assert [e["type"] for e in meta["events"]] == [e["type"] for e in seq.events]
    assert any(e["type"] == "out_of_view" and e["parameters"]["gap"] > 0 for e in meta["events"])


def test_two_writes_are_byte_identical_and_rewrite_replaces(written, tmp_path):
    seq, root, folder = written
    again = make_sequence("mini", "test", 1, num_frames=110)
    second = write_lasot(again, tmp_path)
    assert _tree(second) == _tree(folder)
    (second / "groundtruth.txt").write_text("stale\n")
    (second / "img" / "99999999.jpg").write_bytes(b"old")
    write_lasot(again, tmp_path, progress=True)
    assert _tree(second) == _tree(folder)
    assert [p.name for p in tmp_path.iterdir()] == [seq.class_name]


def test_number_format():
    assert [format_number(v) for v in (0.0, -0.0, 12.5, 100.0, 3.14159, 0.004)] == ["0", "0", "12.5", "100", "3.14", "0"]
