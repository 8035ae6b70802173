"""The real sequences of shared/data/real (OTB and VOT layouts) are tracked and scored end to end
through the CLI, as a user would: `longtrack eval` then `longtrack score --json`."""
import json

from longtrack.cli import main


def test_otb_layout_real_sequences_track_and_score(shared_dir, tmp_path):
    root = shared_dir / "data" / "real"
    assert main(["eval", "--tracker", "csrt", "--dataset", "otb", "--root", str(root),
                 "--out", str(tmp_path / "res")]) == 0
    boxes = (tmp_path / "res" / "csrt" / "Crossing.txt").read_text().splitlines()
    assert len(boxes) == 120  # one line per frame of Crossing
    out = tmp_path / "scores.json"
    assert main(["score", "--dataset", "otb", "--root", str(root),
                 "--results", str(tmp_path / "res" / "csrt"), "--json", str(out)]) == 0
    scores = json.loads(out.read_text())["csrt"]
    assert set(scores["per_sequence"]) == {"Crossing", "Skiing"}
    # CSRT follows the pedestrian of Crossing through all 120 frames (a broken reader, frame order
    # or box convention would not).
    assert scores["per_sequence"]["Crossing"]["success_auc"] > 0.6
    assert 0.0 <= scores["success_auc"] <= 1.0


def test_vot_layout_real_sequence_tracks_and_scores(shared_dir, tmp_path):
    root = shared_dir / "data" / "real"
    assert main(["eval", "--tracker", "csrt", "--dataset", "votlt2020", "--root", str(root),
                 "--out", str(tmp_path / "res")]) == 0
    out = tmp_path / "scores.json"
    assert main(["score", "--dataset", "votlt2020", "--root", str(root),
                 "--results", str(tmp_path / "res" / "csrt"), "--json", str(out)]) == 0
    scores = json.loads(out.read_text())["csrt"]
    assert 0.3 < scores["f_score"] <= 1.0
    assert {"precision", "recall", "threshold"} <= set(scores)
