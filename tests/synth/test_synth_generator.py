"""The synthetic world's generator: determinism, random access, ground truth, events, splits."""
import hashlib
import pickle
import subprocess
import sys

import numpy as np
import pytest

from longtrack.errors import LongtrackError
from longtrack.synth import PRESETS, SPLITS, SynthSource, iter_sequences, make_sequence
from target_alone import target_alone_frames

MINI = dict(preset="mini", split="test")


def _frame_digest(seq, frames) -> str:
    h = hashlib.sha256()
    for i in frames:
        h.update(seq.render(i).tobytes())
    return h.hexdigest()


def _event_mask(seq, kind: str) -> np.ndarray:
    mask = np.zeros(len(seq), dtype=bool)
    for e in seq.events:
        if e["type"] == kind:
            mask[e["start"]:e["end"]] = True
    return mask


def test_same_seed_same_everything_and_other_seed_differs():
    a, b = make_sequence(**MINI, index=2), make_sequence(**MINI, index=2)
    assert a.name == b.name and len(a) == len(b)
    np.testing.assert_array_equal(a.boxes, b.boxes)
    assert a.meta() == b.meta()
    frames = [0, len(a) // 2, len(a) - 1]
    assert _frame_digest(a, frames) == _frame_digest(b, frames)
    c = make_sequence(**MINI, index=3)
    assert _frame_digest(c, [0]) != _frame_digest(a, [0])


def test_frames_identical_in_a_fresh_process():
    seq = make_sequence(**MINI, index=1, num_frames=100)
    code = ("from longtrack.synth import make_sequence; import hashlib\n"
            "s = make_sequence(preset='mini', split='test', index=1, num_frames=100)\n"
            "h = hashlib.sha256()\n"
            "for i in (0, 37, 99): h.update(s.render(i).tobytes())\n"
            "h.update(s.boxes.tobytes()); print(h.hexdigest())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "123", "PATH": ""}).stdout.strip()
    h = hashlib.sha256()
    for i in (0, 37, 99):
        h.update(seq.render(i).tobytes())
    h.update(seq.boxes.tobytes())
    assert out == h.hexdigest()


def test_random_access_equals_sequential_rendering():
    sequential = make_sequence(**MINI, index=0, num_frames=120)
    frames = [sequential.render(i) for i in range(len(sequential))]
    fresh = make_sequence(**MINI, index=0, num_frames=120)
    for i in (119, 3, 64, 0, 88):
        np.testing.assert_array_equal(fresh.render(i), frames[i])
    assert frames[0].shape == (240, 320, 3) and frames[0].dtype == np.uint8


@pytest.mark.parametrize("index", range(6))
def test_mini_ground_truth_is_consistent_with_events(index):
    seq = make_sequence(**MINI, index=index)
    boxes, absent = seq.boxes, seq.absent
    assert boxes.shape == (len(seq), 4) and boxes.dtype == np.float64
    np.testing.assert_array_equal(absent, seq.full_occlusion | seq.out_of_view)
    assert not (seq.full_occlusion & seq.out_of_view).any()
    assert not absent[0] and (boxes[0, 2:] > 0).all()
    assert (boxes[absent] == 0).all()
    visible = boxes[~absent]
    assert (visible[:, 2:] > 0).all()
    assert (visible[:, 0] >= 0).all() and (visible[:, 0] + visible[:, 2] <= seq.width + 1e-9).all()
    assert (visible[:, 1] >= 0).all() and (visible[:, 1] + visible[:, 3] <= seq.height + 1e-9).all()
    # flags only inside the events that cause them; partial occlusion never makes the target absent
    assert not (seq.out_of_view & ~_event_mask(seq, "out_of_view")).any()
    assert not (seq.full_occlusion & ~_event_mask(seq, "full_occlusion")).any()
    assert not (absent & _event_mask(seq, "partial_occlusion")).any()
    # mini: exactly one exit with re-entry, and one same-class distractor
    exits = [e for e in seq.events if e["type"] == "out_of_view"]
    assert len(exits) == 1
    _check_exit_and_reentry(seq, exits[0])
    assert sum(o.role == "distractor" and o.class_name == seq.class_name for o in seq.objects) == 1


def _check_exit_and_reentry(seq, event):
    p = event["parameters"]
    assert seq.out_of_view[p["out_start"]:p["out_end"]].all() and p["out_end"] - p["out_start"] == p["gap"] > 0
    assert not seq.absent[event["end"]:event["end"] + 1].any(), "the target is back after the event"
    border_length = seq.height if p["exit_border"] in ("left", "right") else seq.width
    assert p["reentry_border"] != p["exit_border"] or p["reentry_distance"] >= 0.3 * border_length
    # it really re-enters elsewhere: the box before leaving and after returning are apart
    before = seq.boxes[event["start"] - 1]
    after = seq.boxes[event["end"]]
    assert np.hypot(*(before[:2] + before[2:] / 2 - after[:2] - after[2:] / 2)) > 0.1 * border_length


@pytest.mark.parametrize("index", [0, 1])
def test_lt_has_two_absences_exit_reentry_and_distractors(index):
    seq = make_sequence("lt", "test", index, size=(160, 120))
    assert 1000 <= len(seq) <= 3000
    types = [e["type"] for e in seq.events]
    assert types.count("out_of_view") >= 1 and types.count("out_of_view") + types.count("full_occlusion") >= 2
    for event in seq.events:
        if event["type"] == "out_of_view":
            _check_exit_and_reentry(seq, event)
        if event["type"] == "full_occlusion":
            window = slice(event["start"], event["end"])
            assert seq.full_occlusion[window].any()
            occluder = seq.objects[event["parameters"]["occluder"]]
            assert occluder.role == "occluder" and occluder.visible[window][seq.full_occlusion[window]].all()
    assert not (seq.out_of_view & ~_event_mask(seq, "out_of_view")).any()
    assert not (seq.full_occlusion & ~_event_mask(seq, "full_occlusion")).any()
    assert any(o.role == "distractor" and o.class_name == seq.class_name for o in seq.objects)
    assert {"appearance_drift", "illumination", "blur", "abrupt_motion", "partial_occlusion"} <= set(types)


@pytest.mark.parametrize("index", range(4))
def test_st_target_never_absent(index):
    seq = make_sequence("st", "test", index, size=(240, 180))
    assert 100 <= len(seq) <= 300 and not seq.absent.any()
    assert not any(e["type"] in ("out_of_view", "full_occlusion") for e in seq.events)


def test_objects_hold_every_instance_target_first():
    seq = make_sequence(**MINI, index=4)
    objects = seq.objects
    assert objects[0].is_target and not any(o.is_target for o in objects[1:])
    assert [o.identity for o in objects] == list(range(len(objects)))
    np.testing.assert_array_equal(objects[0].boxes, seq.boxes)
    np.testing.assert_array_equal(objects[0].visible, ~seq.absent)
    for o in objects:
        assert o.boxes.shape == (len(seq), 4) and o.visible.shape == (len(seq),)
        assert ((o.boxes[:, 2] > 0) == o.visible).all()
    assert {o.role for o in objects} >= {"target", "distractor", "other"}


@pytest.mark.parametrize("index", [0, 5, 6, 7])
def test_rendered_target_matches_its_box(index):
    """Draw only the target, white on black: its pixels fill the ground-truth box to ~1 px."""
    seq = make_sequence(**MINI, index=index)
    for i, frame in target_alone_frames(seq, samples=12):
        x, y, w, h = seq.boxes[i]
        ys, xs = np.nonzero(frame[:, :, 0] > 16)  # pixels the outline covers in part (tips included)
        assert abs(xs.min() - x) <= 1.5 and abs(xs.max() + 1 - (x + w)) <= 1.5
        assert abs(ys.min() - y) <= 1.5 and abs(ys.max() + 1 - (y + h)) <= 1.5
        ys, xs = np.nonzero(frame[:, :, 0] >= 128)  # mostly covered pixels lie inside the box
        assert xs.min() >= x - 0.5 and xs.max() + 1 <= x + w + 0.5
        assert ys.min() >= y - 0.5 and ys.max() + 1 <= y + h + 0.5


def test_splits_never_overlap_and_name_the_seed():
    ranges = sorted((s.first_seed, s.first_seed + s.size) for s in SPLITS.values())
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(ranges, ranges[1:]))
    seeds = {name: {make_sequence("mini", name, i).seed for i in range(3)} for name in SPLITS}
    assert not (seeds["train"] & seeds["val"]) and not (seeds["val"] & seeds["test"])
    assert all(seed in SPLITS[name] for name, values in seeds.items() for seed in values)
    a, b = make_sequence("mini", "train", 0), make_sequence("mini", "test", 0)
    assert a.meta()["seed"] != b.meta()["seed"]
    with pytest.raises(LongtrackError):
        make_sequence("mini", "val", SPLITS["val"].size)


def test_explicit_seed_size_and_frame_count_overrides():
    seq = make_sequence("mini", "test", 0, size=(200, 150), seed=7, num_frames=150)
    assert (seq.width, seq.height, len(seq), seq.seed) == (200, 150, 150, 7)
    assert seq.split == "train"  # an explicit seed belongs to the split whose range holds it
    assert seq.render(149).shape == (150, 200, 3)
    listed = list(iter_sequences("mini", "val", 3, seed=40))
    assert [s.seed for s in listed] == [40, 41, 42] and [s.name.rsplit("-", 1)[1] for s in listed] == ["1", "2", "3"]


@pytest.mark.parametrize("kwargs", [dict(preset="huge"), dict(split="dev"), dict(size=(10, 10)),
                                    dict(size="640x480"), dict(index=-1), dict(seed=-3),
                                    dict(num_frames=30), dict(preset="lt", num_frames=200)])
def test_bad_arguments_are_longtrack_errors(kwargs):
    args = {**MINI, "index": 0, **kwargs}
    with pytest.raises(LongtrackError):
        make_sequence(**args)
    with pytest.raises(LongtrackError):
        list(iter_sequences("mini", "test", 0))


def test_presets_match_the_documented_ranges():
    assert PRESETS["lt"].num_frames == (1000, 3000) and PRESETS["lt"].out_of_view[0] >= 1
    assert PRESETS["st"].num_frames == (100, 300) and PRESETS["st"].out_of_view == (0, 0)
    assert PRESETS["st"].full_occlusion == (0, 0)
    assert PRESETS["mini"].size == (320, 240) and PRESETS["mini"].same_class_distractors[0] >= 1


def test_source_caches_and_pickles():
    source = SynthSource("mini", "train", num=3, num_frames=100, cache=2)
    first = source[0]
    assert source[0] is first and len(source) == 3
    source[1], source[2]
    assert source[0] is not first  # evicted, rebuilt identically
    np.testing.assert_array_equal(source[0].boxes, first.boxes)
    clone = pickle.loads(pickle.dumps(source[1]))
    np.testing.assert_array_equal(clone.render(5), source[1].render(5))
    with pytest.raises(IndexError):
        source[3]


def test_to_sequence_renders_on_demand():
    seq = make_sequence(**MINI, index=0, num_frames=100)
    dataset_seq = seq.to_sequence()
    assert dataset_seq.name == seq.name and len(dataset_seq) == 100
    np.testing.assert_array_equal(dataset_seq.frame(42), seq.render(42))
    np.testing.assert_array_equal(dataset_seq.absent, seq.absent)
