"""The ``lt-real`` world: lt's events with objects and backgrounds cut from a real training root."""
import hashlib
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from longtrack.cli import main
from longtrack.errors import LongtrackError
from longtrack.synth import SynthSource, make_sequence, write_lasot
from longtrack.synth import render as render_module
from longtrack.synth.real_source import DEFAULT_ROOT, load_source_index
from longtrack.video import read_image
from target_alone import target_alone_frames

SMALL = dict(preset="lt-real", split="test", size=(240, 180), num_frames=420)


@pytest.fixture(scope="module")
def real_train(shared_dir) -> Path:
    root = shared_dir / "data" / "real-train"
    assert root.resolve() == DEFAULT_ROOT.resolve()  # the default is the repository's ../shared copy
    return root


def _digest(seq, frames) -> str:
    h = hashlib.sha256()
    for i in frames:
        h.update(seq.render(i).tobytes())
    h.update(seq.boxes.tobytes())
    return h.hexdigest()


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def test_same_seed_same_root_is_byte_identical(real_train):
    a, b = make_sequence(**SMALL, index=2), make_sequence(**SMALL, index=2, source_root=real_train)
    assert a.name == b.name and a.meta() == b.meta()
    frames = [0, 150, 419]
    assert _digest(a, frames) == _digest(b, frames)
    assert _digest(make_sequence(**SMALL, index=3), [0]) != _digest(a, [0])


def test_identical_in_a_fresh_process(real_train):
    """Sequence choice must not depend on hash randomisation or on what was made before."""
    code = ("from longtrack.synth import make_sequence; import hashlib\n"
            f"s = make_sequence(preset='lt-real', split='test', index=1, size=(240, 180), num_frames=420, "
            f"source_root={str(real_train)!r})\n"
            "h = hashlib.sha256()\n"
            "for i in (0, 210, 419): h.update(s.render(i).tobytes())\n"
            "h.update(s.boxes.tobytes()); print(h.hexdigest())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "7", "PATH": ""}).stdout.strip()
    assert out == _digest(make_sequence(**SMALL, index=1), [0, 210, 419])


def test_keeps_the_lt_events_and_motion():
    real, procedural = make_sequence(**SMALL, index=0), make_sequence(**{**SMALL, "preset": "lt"}, index=0)
    assert [(e["type"], e["start"], e["end"]) for e in real.events] == \
        [(e["type"], e["start"], e["end"]) for e in procedural.events]
    assert real.out_of_view.any() and real.full_occlusion.any()
    np.testing.assert_array_equal(real.plan.camera.centre_x, procedural.plan.camera.centre_x)
    np.testing.assert_array_equal(real.plan.effects.gain, procedural.plan.effects.gain)
    assert not (real.boxes[real.absent] != 0).any() and (real.boxes[~real.absent, 2:] > 0).all()


def test_objects_are_real_cut_outs_of_the_right_classes():
    index = load_source_index()
    for k in range(4):
        seq = make_sequence(**SMALL, index=k)
        target, *others = [o.appearance for o in seq.plan.objects]
        assert seq.class_name == target.class_name and seq.name == f"{target.class_name}-{k + 1}"
        peers = {s.name for s in index.by_class[target.class_name]}
        for obj, look in zip(seq.plan.objects[1:], others):
            if obj.role == "distractor":  # same class: another instance where the class has one
                assert look.class_name == target.class_name
                assert look.source != target.source or peers == {target.source}
            elif obj.role == "other":
                assert look.class_name != target.class_name
            else:
                assert obj.role == "occluder" and look.class_name == "occluder"
        assert seq.meta()["background"][0]["start"] == 0


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(np.corrcoef(a, b)[0, 1])


def _source_at(source: np.ndarray, box, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The source pixels at object coordinates ``(u, v)`` in [-1, 1] of the annotated ``box``."""
    import cv2

    x, y, w, h = box
    map_x = (x + (u + 1.0) / 2.0 * w - 0.5).astype(np.float32)
    map_y = (y + (v + 1.0) / 2.0 * h - 0.5).astype(np.float32)
    return cv2.remap(source, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def test_frames_hold_the_source_pixels():
    """The target's sprite is its source box, the first frame shows it where the plan puts it,
    and the background canvas is the source frame scaled to cover it."""
    from longtrack.synth.appearance import sprite_half

    seq = make_sequence(**SMALL, index=0)
    target = seq.plan.objects[0]
    look = target.appearance
    source = read_image(look.path)
    assets = render_module.build_assets(seq.plan)

    sprite = assets.sprites[0][0]
    size = sprite.shape[0]
    coords = (np.arange(size) + 0.5 - size / 2.0) / sprite_half(size)
    u, v = np.meshgrid(coords, coords)
    inner = (np.abs(u) < 0.6) & (np.abs(v) < 0.6)  # opaque: inside the feathered edge
    expected = _source_at(source, look.box, u, v)
    assert _correlation(expected[inner], sprite[:, :, :3][inner]) > 0.97

    frame = seq.render(0)
    ys, xs = np.mgrid[0:seq.height, 0:seq.width] + 0.5
    c, s_ = np.cos(target.angle[0]), np.sin(target.angle[0])
    dx, dy = xs - target.x[0], ys - target.y[0]
    fu, fv = (c * dx + s_ * dy) / target.half_w[0], (-s_ * dx + c * dy) / target.half_h[0]
    inside = (np.abs(fu) < 0.6) & (np.abs(fv) < 0.6)
    assert inside.sum() > 50
    drawn = _source_at(source, look.box, fu, fv)
    assert _correlation(drawn[inside], frame[inside]) > 0.9  # through noise and two resamplings

    canvas = assets.canvas
    scene = read_image(seq.plan.background[0][1].path)
    scale = max(canvas.shape[1] / scene.shape[1], canvas.shape[0] / scene.shape[0])
    cy, cx = np.mgrid[0:canvas.shape[0], 0:canvas.shape[1]] + 0.5
    import cv2

    map_x = ((cx - canvas.shape[1] / 2.0) / scale + scene.shape[1] / 2.0 - 0.5).astype(np.float32)
    map_y = ((cy - canvas.shape[0] / 2.0) / scale + scene.shape[0] / 2.0 - 0.5).astype(np.float32)
    expected = cv2.remap(scene, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    assert _correlation(expected, canvas) > 0.9  # all but the inpainted object


def test_ground_truth_box_is_the_drawn_cut_out():
    """Draw only the target's alpha: what is drawn reaches the box's edges and never leaves it."""
    seq = make_sequence(**SMALL, index=1)
    for i, frame in target_alone_frames(seq, samples=10):
        x, y, w, h = seq.boxes[i]
        ys, xs = np.nonzero(frame[:, :, 0] > 0)  # the feathered edge fades to 0 on the outline
        assert abs(xs.min() - x) <= 1.5 and abs(xs.max() + 1 - (x + w)) <= 1.5
        assert abs(ys.min() - y) <= 1.5 and abs(ys.max() + 1 - (y + h)) <= 1.5


def test_cli_twice_is_byte_identical_and_reads_back(tmp_path, real_train):
    args = ["synth", "--preset", "lt-real", "--num", "1", "--size", "160x120", "--num-frames", "420",
            "--source-root", str(real_train)]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    assert main(args + ["--out", str(tmp_path / "b")]) == 0
    assert _tree_digest(tmp_path / "a") == _tree_digest(tmp_path / "b")
    from longtrack.datasets.lasot import load_sequence_dir

    seq = make_sequence("lt-real", "test", 0, size=(160, 120), num_frames=420)
    loaded = load_sequence_dir(tmp_path / "a", (tmp_path / "a" / "list.txt").read_text().split()[0])
    np.testing.assert_array_equal(loaded.boxes, seq.boxes)
    np.testing.assert_array_equal(loaded.absent, seq.absent)


@pytest.mark.parametrize("which", ["real-val", "real", "real-val/person"])
def test_evaluation_sets_are_refused(shared_dir, capsys, which, tmp_path):
    root = shared_dir / "data" / which
    with pytest.raises(LongtrackError, match="evaluation set"):
        make_sequence(**SMALL, index=0, source_root=root)
    assert main(["synth", "--preset", "lt-real", "--num", "1", "--out", str(tmp_path / "x"),
                 "--source-root", str(root)]) == 1
    err = capsys.readouterr().err.strip()
    assert "evaluation set" in err and "\n" not in err and not (tmp_path / "x" / "list.txt").exists()


def test_a_root_without_sequences_is_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    for root in (tmp_path / "empty", tmp_path / "missing"):
        assert main(["synth", "--preset", "lt-real", "--num", "1", "--out", str(tmp_path / "x"),
                     "--source-root", str(root)]) == 1
        err = capsys.readouterr().err.strip()
        assert str(root) in err and "\n" not in err and "Traceback" not in err
    with pytest.raises(LongtrackError, match="only for the lt-real preset"):
        make_sequence("mini", "test", 0, source_root=tmp_path)


def test_a_users_own_one_class_root_is_accepted(tmp_path):
    """Any LaSOT-layout training root works; with one class and one sequence, look-alikes are
    the same sequence at other, far-apart frames."""
    root = tmp_path / "mine"
    write_lasot(make_sequence("mini", "train", 0, num_frames=150), root)
    seq = make_sequence(**SMALL, index=0, source_root=root)
    looks = {o.role: [] for o in seq.plan.objects}
    for o in seq.plan.objects:
        looks[o.role].append(o.appearance)
    target = looks["target"][0]
    frames = [target.frame] + [d.frame for d in looks["distractor"]]
    assert all(d.source == target.source for d in looks["distractor"])
    assert len(set(frames)) == len(frames) and max(abs(f - target.frame) for f in frames) >= 150 / 6
    assert seq.render(200).shape == (180, 240, 3)


def test_training_source_takes_the_root_and_pickles(real_train):
    source = SynthSource("lt-real", "train", num=2, size=(160, 120), num_frames=420, cache=1,
                         source_root=real_train)
    clone = pickle.loads(pickle.dumps(source))
    np.testing.assert_array_equal(clone[1].render(100), source[1].render(100))
    assert source[0].preset == "lt-real"
