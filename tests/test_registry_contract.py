"""Every registered tracker keeps the ``Tracker`` contract through an exit and a re-entry.

Each tracker (every baseline; nanotrack on ``../shared/models/nanotrack-v2``; each learned tracker
with its shipped weights; ``tanet:<each local tracker>``) is initialised on a synthetic clip, tracks
while the target leaves the view and comes back, is initialised again after the re-entry and
tracks on. Every answer must be a ``Prediction`` with four finite float box values, a finite float
score and a bool presence. 24 frames of 320x240 per tracker keep the file under a minute.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

import longtrack
from longtrack.contract import Prediction
from longtrack.registry import get_tracker_spec, tracker_names
from longtrack.synth import make_sequence

NANOTRACK = Path(__file__).resolve().parents[1] / ".." / "shared" / "models" / "nanotrack-v2"
START, STOP = 20, 44  # frames of the clip: 6 visible, 8 out of view, 10 back in view
REINIT_AFTER = 3  # re-initialise this many frames after the target is back


def local_trackers() -> list[str]:
    return [name for name in tracker_names() if not name.endswith(":*")]


def contract_names() -> list[str]:
    wrappers = [name[:-1] for name in tracker_names() if name.endswith(":*")]
    return local_trackers() + [w + local for w in wrappers for local in local_trackers()]


@pytest.fixture(scope="module")
def clip():
    seq = make_sequence("mini", "test", 1, num_frames=60)
    absent = seq.absent[START:STOP]
    exit_at = int(np.argmax(absent))
    back_at = exit_at + int(np.argmax(~absent[exit_at:]))
    assert 0 < exit_at < back_at < len(absent) - REINIT_AFTER - 2, "the clip must hold an exit and a return"
    frames = [seq.render(i) for i in range(START, STOP)]
    boxes = [tuple(float(v) for v in seq.boxes[i]) for i in range(START, STOP)]
    return frames, boxes, exit_at, back_at


def build(name: str):
    options, weights = {}, None
    uses_nanotrack = name == "nanotrack" or name.endswith(":nanotrack")
    if uses_nanotrack and not NANOTRACK.is_dir():
        pytest.skip(f"nanotrack's ONNX files are not at {NANOTRACK}")
    if name == "nanotrack":
        weights = str(NANOTRACK)
    elif uses_nanotrack:
        options["local_weights"] = str(NANOTRACK)
    spec = get_tracker_spec(name)
    if spec.default_weights is not None:
        assert spec.weights_path() is not None, f"{name}: shipped weights {spec.default_weights} are missing"
    return longtrack.create(name, weights=weights, **options)


def check_prediction(pred, where: str) -> None:
    assert isinstance(pred, Prediction), f"{where}: {type(pred).__name__} is not a Prediction"
    assert isinstance(pred.box, tuple) and len(pred.box) == 4, f"{where}: box {pred.box!r}"
    assert all(isinstance(v, float) and math.isfinite(v) for v in pred.box), f"{where}: box {pred.box!r}"
    assert isinstance(pred.score, float) and math.isfinite(pred.score), f"{where}: score {pred.score!r}"
    assert isinstance(pred.present, bool), f"{where}: present {pred.present!r}"


def test_every_registered_tracker_is_checked():
    names = contract_names()
    assert {"csrt", "kcf", "tld", "classic-lt", "nanotrack", "procontext", "globaltrack", "dmtrack",
            "gtelt", "tanet:kcf", "tanet:procontext"} <= set(names)
    assert not any(name.endswith("*") for name in names)


@pytest.mark.parametrize("name", contract_names())
def test_tracker_contract_through_exit_and_reentry(name, clip):
    frames, boxes, exit_at, back_at = clip
    torch.set_num_threads(1)
    tracker = build(name)
    reinit = back_at + REINIT_AFTER
    tracker.initialize(frames[0], boxes[0])
    for i in range(1, reinit):
        check_prediction(tracker.track(frames[i]), f"{name} frame {i}")
    tracker.initialize(frames[reinit], boxes[reinit])  # a second target box: all state starts again
    for i in range(reinit + 1, len(frames)):
        check_prediction(tracker.track(frames[i]), f"{name} frame {i} after re-initialising")
