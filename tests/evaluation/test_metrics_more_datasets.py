"""TLP and TrackingNet scored end to end through ``load_dataset`` on small hand-made folders."""
import numpy as np
import pytest

from longtrack.cli import main
from longtrack.datasets import load_dataset
from longtrack.errors import LongtrackError
from longtrack.evaluation.scoring import score_results


def _write_tlp(root, name, lost):
    n = len(lost)
    folder = root / name
    folder.mkdir(parents=True)
    rows = [f"{i + 1},{10 + i},{20},{30},{40},{int(lost[i])}" for i in range(n)]
    (folder / "groundtruth_rect.txt").write_text("\n".join(rows) + "\n")
    return np.array([[10 + i, 20, 30, 40] for i in range(n)], dtype=float)


def test_tlp_lsm_and_lost_frames(tmp_path):
    lost = np.zeros(20, bool)
    lost[8:10] = True
    gt = _write_tlp(tmp_path / "TLP", "Bike", lost)
    pred = gt.copy()
    pred[14] += [500, 0, 0, 0]  # one failure among the 18 visible frames
    (tmp_path / "res" / "T").mkdir(parents=True)
    (tmp_path / "res" / "T" / "Bike.txt").write_text("\n".join(",".join(f"{v:g}" for v in r) for r in pred))
    sequences = load_dataset("tlp", tmp_path / "TLP")
    r = score_results("tlp", sequences, tmp_path / "res" / "T")
    assert r["success_rate_50"] == pytest.approx(17 / 20)  # lost frames count as failures
    # Longest run with >= 95% successes over the 18 visible frames: the 12 frames before the
    # failure (8 + 4 after the lost stretch, which neither breaks nor extends the run).
    assert r["lsm"] == pytest.approx(12 / 18)
    assert r["per_sequence"]["Bike"]["lsm"] == r["lsm"]
    assert main(["score", "--dataset", "tlp", "--root", str(tmp_path / "TLP"),
                 "--results", str(tmp_path / "res" / "T")]) == 0


def test_trackingnet_trapezoid_default_and_server_only_test_split(tmp_path):
    chunk = tmp_path / "TN" / "TRAIN_0"
    (chunk / "anno").mkdir(parents=True)
    gt = np.array([[10 + i, 10, 40, 30] for i in range(15)], dtype=float)
    (chunk / "anno" / "abc.txt").write_text("\n".join(",".join(f"{v:g}" for v in r) for r in gt))
    (tmp_path / "T").mkdir()
    (tmp_path / "T" / "abc.txt").write_text("\n".join(",".join(f"{v:g}" for v in r) for r in gt))
    sequences = load_dataset("trackingnet", tmp_path / "TN", split="TRAIN_0")
    r = score_results("trackingnet", sequences, tmp_path / "T")
    assert r["convention"] == "trackingnet"
    assert r["success_auc"] == pytest.approx(0.975) and r["precision"] == pytest.approx(1.0)
    r = score_results("trackingnet", sequences, tmp_path / "T", convention="otb")
    assert r["success_auc"] == pytest.approx(20 / 21)

    test_chunk = tmp_path / "TN" / "TEST"
    (test_chunk / "anno").mkdir(parents=True)
    (test_chunk / "anno" / "abc.txt").write_text("10,10,40,30\n")
    frames = test_chunk / "frames" / "abc"
    frames.mkdir(parents=True)
    import cv2

    for i in range(15):
        cv2.imwrite(str(frames / f"{i}.jpg"), np.zeros((24, 32, 3), np.uint8))
    sequences = load_dataset("trackingnet", tmp_path / "TN", split="test")
    with pytest.raises(LongtrackError, match="scored by the benchmark's server"):
        score_results("trackingnet", sequences, tmp_path / "T")
