"""longtrack calibrate dmtrack on a training root in the LaSOT layout: the grid's best pair by mean
visible IoU and the presence threshold land in the weights file, which the tracker then reads;
evaluation sets, and data without a target-absent frame, are refused before any tracking."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from cli_helpers import one_line, run_cli
from fabricated_lasot import write_lasot_sequence
from longtrack.checkpoint import load_weights, save_weights
from longtrack.models.dmtrack import DMTrack, DMTrackConfig
from longtrack.trackers.dmtrack import CALIBRATED, DMTrackTracker

REPO = Path(__file__).resolve().parents[2]
FRAMES = 6


def calibrate(capsys, *argv) -> tuple[int, str, str]:
    """``(exit code, stdout, stderr)`` of ``longtrack calibrate dmtrack ARGV``."""
    return run_cli(capsys, "calibrate", "dmtrack", *argv)


def _write_sequence(root: Path, name: str, seed: int, absent=()) -> None:
    write_lasot_sequence(root, name, FRAMES, seed, step=3, absent=absent)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    torch.manual_seed(0)
    config = DMTrackConfig.small()
    path = tmp_path_factory.mktemp("weights") / "dmtrack.pt"
    save_weights(path, method="dmtrack", config={"model": config.to_dict()}, state_dict=DMTrack(config).state_dict())
    return path


@pytest.fixture
def train_root(tmp_path):
    root = tmp_path / "train"
    _write_sequence(root, "cat-1", seed=1, absent=(3, 4))
    _write_sequence(root, "dog-2", seed=2)
    return root


def test_a_training_root_calibrates_the_four_thresholds_into_the_weights(weights, train_root, tmp_path, capsys):
    torch.set_num_threads(1)
    out = tmp_path / "calibrated.pt"
    recover, reid = [0.0, 0.1], [-1.0, 0.6]
    code, printed, _ = calibrate(capsys, "--weights", weights, "--dataset", "lasot", "--root", train_root,
                                 "--sequences", "2", "--max-frames", FRAMES, "--recover", *recover,
                                 "--reid", *reid, "--write", out)
    assert code == 0
    table = {(float(a), float(b)): float(v) for a, b, v in
             re.findall(r"gallery_score ([\d.]+), reid_threshold (-?[\d.]+): mean visible IoU ([\d.]+)", printed)}
    assert set(table) == {(a, b) for a in recover for b in reid}
    calibration = json.loads(printed[printed.index("{"):printed.rindex("}") + 1])
    assert table[(calibration["recover_score"], calibration["reid_threshold"])] == max(table.values())
    assert calibration["gallery_score"] == calibration["recover_score"]
    assert 0.0 <= calibration["presence_threshold"] <= 1.0
    assert "lasot" in calibration["calibrated_on"] and "2 of 2 sequences" in calibration["calibrated_on"]
    stored = load_weights(out).tracker_config(str(out))
    assert {k: stored[k] for k in CALIBRATED} == {k: calibration[k] for k in CALIBRATED}
    tracker = DMTrackTracker(weights=str(out))
    assert {k: getattr(tracker, k) for k in CALIBRATED} == pytest.approx({k: calibration[k] for k in CALIBRATED})


def test_synthetic_sequences_bring_the_absent_frames_a_training_root_lacks(weights, tmp_path, capsys):
    torch.set_num_threads(1)
    root = tmp_path / "train"
    _write_sequence(root, "dog-2", seed=2)
    _write_sequence(root, "eel-3", seed=3)
    code, printed, _ = calibrate(capsys, "--weights", weights, "--dataset", "lasot", "--root", root, "--sequences", 1,
                                 "--synth", "mini:1", "--synth-frames", 100, "--recover", 0.1, "--reid", 0.6)
    assert code == 0
    calibration = json.loads(printed[printed.index("{"):printed.rindex("}") + 1])
    assert "1 of 2 sequences" in calibration["calibrated_on"]
    assert "synthetic mini val 0..0 (100 frames each)" in calibration["calibrated_on"]
    assert f"{FRAMES + 100} frames x 1 settings" in printed


def test_an_evaluation_set_is_refused_before_the_weights_are_read(tmp_path, capsys):
    validation = tmp_path / "real-val"
    _write_sequence(validation, "cat-1", seed=1, absent=(3,))
    (validation / "README.md").write_text("# real-val\n\nFor validation only: never train on them.\n")
    roots = [validation, validation / "cat"]
    shared = REPO.parent / "shared" / "data"
    roots += [shared / name for name in ("real-val", "real") if (shared / name).is_dir()]
    for root in roots:
        code, _, err = calibrate(capsys, "--weights", tmp_path / "never-read.pt", "--dataset", "lasot", "--root", root)
        assert code == 1 and "is an evaluation set" in one_line(err)


def test_data_without_an_absent_frame_is_refused(tmp_path, capsys):
    root = tmp_path / "train"
    _write_sequence(root, "dog-2", seed=2)
    code, _, err = calibrate(capsys, "--weights", tmp_path / "never-read.pt", "--dataset", "lasot", "--root", root)
    assert code == 1 and re.search("no target-absent frame.*--synth lt-real", one_line(err))


def test_the_default_synthetic_options_do_not_mix_with_a_dataset(tmp_path, capsys):
    code, _, err = calibrate(capsys, "--weights", "w.pt", "--dataset", "lasot", "--root", tmp_path, "--num", 2)
    assert code == 1 and "--num and --num-frames" in one_line(err)
