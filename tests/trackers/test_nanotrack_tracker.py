"""nanotrack: OpenCV's TrackerNano on NanoTrack v2's ONNX files (shared/models/nanotrack-v2) tracks
a real clip; a folder without its files, or with files OpenCV cannot use, is a one-line error."""
from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

import longtrack
from longtrack.contract import Prediction
from longtrack.boxes import iou
from longtrack.cli import main
from longtrack.datasets import load_dataset
from longtrack.errors import LongtrackError
from longtrack.evaluation.run_record import read_record
from longtrack.trackers.nanotrack import BACKBONE_FILE, DEFAULT_PRESENCE_THRESHOLD, HEAD_FILE

FRAMES = 30


@pytest.fixture(scope="module")
def weights(shared_dir):
    return shared_dir / "models" / "nanotrack-v2"


@pytest.fixture(scope="module")
def bird(shared_dir):
    """real-train bird-1: a bird that flies about 70 px to the right in 30 frames."""
    cv2.setNumThreads(1)
    (seq,) = load_dataset("lasot", shared_dir / "data" / "real-train", sequences="bird-1", progress=False)
    return seq, [seq.frame(i) for i in range(FRAMES)]


def test_tracks_a_real_clip(weights, bird):
    seq, frames = bird
    tracker = longtrack.create("nanotrack", weights=str(weights))
    tracker.initialize(frames[0], seq.init_box)
    preds = [tracker.track(f) for f in frames[1:]]
    gt = seq.boxes[1:FRAMES]
    overlap = iou(np.array([p.box for p in preds]), gt)
    standing_still = iou(np.repeat(seq.boxes[:1], len(gt), axis=0), gt)
    assert overlap.mean() > 0.65, np.round(overlap, 2)
    assert overlap.mean() > standing_still.mean() + 0.3  # it follows the motion, not the first box
    for pred in preds:  # the Prediction contract
        assert isinstance(pred, Prediction) and len(pred.box) == 4
        assert all(np.isfinite(pred.box)) and pred.box[2] > 0 and pred.box[3] > 0
        assert 0.0 <= pred.score <= 1.0
        assert pred.present == (pred.score >= DEFAULT_PRESENCE_THRESHOLD)
    assert np.mean([p.present for p in preds]) > 0.8  # the bird stays in view: mostly reported present


def test_presence_threshold_is_an_option(weights, bird):
    seq, frames = bird
    always = longtrack.create("nanotrack", weights=str(weights), presence_threshold=0.0)
    never = longtrack.create("nanotrack", weights=str(weights), presence_threshold=1.0)
    for tracker in (always, never):
        tracker.initialize(frames[0], seq.init_box)
    a, n = [always.track(f) for f in frames[1:10]], [never.track(f) for f in frames[1:10]]
    assert all(p.present for p in a) and not any(p.present for p in n)
    assert [p.box for p in a] == [p.box for p in n]  # presence never changes the box
    with pytest.raises(LongtrackError, match="presence_threshold must be in"):
        longtrack.create("nanotrack", weights=str(weights), presence_threshold=2)


def test_missing_weights_folder_or_file_is_a_one_line_error(weights, tmp_path):
    with pytest.raises(LongtrackError, match="nanotrack ships no weights: give --weights DIR, a folder holding "
                                             f"{BACKBONE_FILE} and {HEAD_FILE}.*github.com/HonglinChu"):
        longtrack.create("nanotrack")
    with pytest.raises(LongtrackError, match=f"weights folder {tmp_path / 'nope'} does not exist"):
        longtrack.create("nanotrack", weights=str(tmp_path / "nope"))
    with pytest.raises(LongtrackError, match="is a file; it must be a folder"):
        longtrack.create("nanotrack", weights=str(weights / BACKBONE_FILE))
    half = tmp_path / "half"
    half.mkdir()
    shutil.copy(weights / BACKBONE_FILE, half)
    with pytest.raises(LongtrackError, match=f"{half} has no {HEAD_FILE} "):
        longtrack.create("nanotrack", weights=str(half))


def test_files_opencv_cannot_use_are_named(weights, tmp_path):
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    shutil.copy(weights / BACKBONE_FILE, damaged)
    (damaged / HEAD_FILE).write_bytes((weights / HEAD_FILE).read_bytes()[:5000])  # a cut download
    with pytest.raises(LongtrackError, match=f"OpenCV cannot load the ONNX files in {damaged}: .*{HEAD_FILE}"):
        longtrack.create("nanotrack", weights=str(damaged))
    swapped = tmp_path / "swapped"
    swapped.mkdir()
    shutil.copy(weights / BACKBONE_FILE, swapped / HEAD_FILE)
    shutil.copy(weights / HEAD_FILE, swapped / BACKBONE_FILE)
    with pytest.raises(LongtrackError, match="load but do not run as NanoTrack's backbone and head"):
        longtrack.create("nanotrack", weights=str(swapped))


def test_eval_records_the_weights_folder_and_a_failed_start_locks_nothing(weights, shared_dir, tmp_path, capsys):
    folder = tmp_path / "nanotrack-v2"
    folder.mkdir()
    shutil.copy(weights / BACKBONE_FILE, folder)
    argv = ["eval", "--tracker", "nanotrack", "--dataset", "otb", "--root", str(shared_dir / "data" / "real"),
            "--sequences", "Skiing", "--out", str(tmp_path / "res"), "--weights", str(folder)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"has no {HEAD_FILE}" in err  # one line, naming the missing file
    shutil.copy(weights / HEAD_FILE, folder)  # the user completes the folder and reruns the same command
    assert main(argv) == 0
    record = read_record(tmp_path / "res" / "nanotrack")
    assert record["weights"]["kind"] == "folder" and record["weights"]["name"] == "nanotrack-v2"
    assert len((tmp_path / "res" / "nanotrack" / "Skiing.txt").read_text().splitlines()) == 81
