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
