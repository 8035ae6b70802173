"""longtrack tune-presence: a threshold tuned on training data lands in the weights file; evaluation
sets are refused."""
import json
from pathlib import Path

import pytest

import longtrack
from longtrack.checkpoint import load_weights
from longtrack.cli import main
from longtrack.registry import get_tracker_spec

REAL_VAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real-val"


def test_the_tuned_threshold_is_stored_and_read_by_the_tracker(tmp_path, capsys):
    weights = get_tracker_spec("globaltrack").weights_path()
    out = tmp_path / "tuned.pt"
    assert main(["tune-presence", "--tracker", "globaltrack", "--weights", weights, "--synth", "mini:2",
                 "--synth-frames", "100", "--write", str(out)]) == 0
    printed = capsys.readouterr().out
    threshold = json.loads(printed[printed.index("{"):printed.rindex("}") + 1])["threshold"]
    tracker_config = load_weights(out).tracker_config(str(out))
    assert tracker_config["presence_threshold"] == pytest.approx(threshold)
    assert "synthetic mini val 0..1" in tracker_config["tuned_on"]
    assert longtrack.create("globaltrack", weights=str(out)).presence_threshold == pytest.approx(threshold)


def test_an_evaluation_set_is_refused_before_any_tracking(tmp_path, capsys):
    if not REAL_VAL.is_dir():
        pytest.skip("real-val not present")
    weights = get_tracker_spec("globaltrack").weights_path()
    assert main(["tune-presence", "--tracker", "globaltrack", "--weights", weights, "--dataset", "lasot",
                 "--root", str(REAL_VAL), "--write", str(tmp_path / "x.pt")]) == 1
    assert "is an evaluation set" in capsys.readouterr().err
    assert not (tmp_path / "x.pt").exists()


def test_no_data_is_one_clear_error(capsys):
    assert main(["tune-presence", "--tracker", "globaltrack", "--weights", "w.pt"]) == 1
    assert "give training data" in capsys.readouterr().err


def test_absent_frames_of_another_class_are_spliced_after_the_visible_ones(tmp_path):
    from fabricated_lasot import write_lasot_sequence
    from longtrack.datasets import load_dataset
    from longtrack.evaluation.absent_splicing import spliced_dataset_sequences

    root = tmp_path / "train"
    write_lasot_sequence(root, "cat-1", 16, seed=1)
    write_lasot_sequence(root, "cat-2", 16, seed=2)
    write_lasot_sequence(root, "dog-1", 4, seed=3)
    cat, _, dog = load_dataset("lasot", root, progress=False)
    clips = spliced_dataset_sequences("lasot", str(root), None, absent=3, visible=5)
    clip = clips[0]
    assert clip.name == "cat-1+3xdog-1"  # cat-2 is of the same class: skipped
    assert clip.absent.tolist() == [False] * 5 + [True] * 3 + [False] * 5
    assert (clip.boxes[:5] == cat.boxes[:5]).all() and (clip.boxes[8:] == cat.boxes[5:10]).all()
    assert (clip.frame(5) == dog.frame(0)).all() and (clip.frame(8) == cat.frame(5)).all()
    assert clips[2].name == "dog-1+3xcat-1" and len(clips[2].boxes) == 4 + 3  # a short sequence: all of it


@pytest.mark.parametrize("extra, message", [
    (["--visible", "100"], "--visible V (>= 1) goes with --absent K"),
    (["--absent", "-1"], "--absent must be >= 0"),
    (["--absent", "50", "--visible", "10", "--max-frames", "30"], "instead of --max-frames"),
])
def test_splicing_options_are_checked_as_one_line(extra, message, capsys):
    from cli_helpers import one_line, run_cli

    code, _, err = run_cli(capsys, "tune-presence", "--tracker", "nanotrack", "--weights", "w", "--dataset", "lasot",
                           "--root", "r", *extra)
    assert code == 1 and message in one_line(err)


def test_a_weights_folder_cannot_take_the_threshold(tmp_path, capsys):
    from cli_helpers import one_line, run_cli

    code, _, err = run_cli(capsys, "tune-presence", "--tracker", "nanotrack", "--weights", tmp_path, "--dataset",
                           "lasot", "--root", tmp_path, "--absent", 50, "--write", tmp_path / "x.pt")
    assert code == 1 and "is a folder, not a weights file" in one_line(err)


def test_help(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["tune-presence", "--help"])
    assert exit_.value.code == 0 and "--absent" in capsys.readouterr().out
