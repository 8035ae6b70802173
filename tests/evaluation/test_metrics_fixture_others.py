"""GOT-10k and OTB (got10k toolkit), VOT-LT (vot-toolkit 0.9.0) and OxUvA (official code, published
per-track assessments and synthetic predictions): every expected.json number reproduced."""
import json

import numpy as np
import pytest

from longtrack.cli import main
from longtrack.datasets import load_dataset
from longtrack.evaluation.scoring import score_results


def _case(shared_dir, name):
    root = shared_dir / "fixtures" / "eval" / name
    return root, json.loads((root / "expected.json").read_text())


def test_got10k(shared_dir):
    root, expected = _case(shared_dir, "got10k")
    sequences = load_dataset("got10k", root)
    for tracker, exp in expected["trackers"].items():
        r = score_results("got10k", sequences, root / "results" / tracker)
        for key in ("ao", "sr50", "sr75", "speed_fps"):
            assert r[key] == pytest.approx(exp[key], abs=1e-9), (tracker, key)
        assert r["num_scored_frames"] == exp["num_scored_frames"]
        np.testing.assert_allclose(r["curves"]["success"], exp["succ_curve_101"], atol=1e-12)
        for name, seq_exp in exp["per_sequence"].items():
            for key, value in seq_exp.items():
                assert r["per_sequence"][name][key] == pytest.approx(value, abs=1e-12), (name, key)


def test_otb(shared_dir):
    root, expected = _case(shared_dir, "otb")
    sequences = load_dataset("otb", root / "sequences")
    for tracker, exp in expected["trackers"].items():
        r = score_results("otb", sequences, root / "results" / tracker)
        assert r["success_auc"] == pytest.approx(exp["success_auc"], abs=1e-9)
        assert r["precision"] == pytest.approx(exp["precision"], abs=1e-9)
        assert r["success_rate_50"] == pytest.approx(exp["success_rate_0.5"], abs=1e-9)
        np.testing.assert_allclose(r["curves"]["success"], exp["success_curve_21"], atol=1e-12)
        np.testing.assert_allclose(r["curves"]["precision"], exp["precision_curve_51"], atol=1e-12)
        for name, seq_exp in exp["per_sequence"].items():
            assert r["per_sequence"][name]["success_auc"] == pytest.approx(seq_exp["success_auc"], abs=1e-12)


@pytest.mark.parametrize("case", ["vot_lt_1", "vot_lt_2"])
def test_vot_longterm(shared_dir, case):
    root, expected = _case(shared_dir, case)
    sequences = load_dataset("votlt2020", root)
    for tracker, exp in expected["trackers"].items():
        r = score_results("votlt2020", sequences, root / "results" / tracker)
        for key in ("precision", "recall", "f_score", "threshold"):
            assert r[key] == pytest.approx(exp[key], abs=1e-9), (tracker, key)
        assert r["threshold_index"] == exp["threshold_index"]
        thresholds = np.array([float(v) for v in exp["thresholds"]])
        np.testing.assert_array_equal(r["curves"]["thresholds"], thresholds)
        for ours, theirs in (("precision", "precision_curve"), ("recall", "recall_curve"), ("f_score", "f_curve")):
            np.testing.assert_allclose(r["curves"][ours], exp[theirs], atol=1e-12)
        for name, seq_exp in exp["per_sequence"].items():
            got = r["per_sequence"][name]
            assert got["counts_T_F_M_H_N"] == seq_exp["counts_T_F_M_H_N"]
            assert got["precision"] == pytest.approx(seq_exp["precision_at_threshold"], abs=1e-12)
            assert got["recall"] == pytest.approx(seq_exp["recall_at_threshold"], abs=1e-12)


def test_oxuva_published_assessments(shared_dir):
    root, expected = _case(shared_dir, "oxuva_real")
    for tracker, exp in expected["trackers"].items():
        r = score_results("oxuva", [], root / "assess" / "test" / tracker)
        for key in ("tpr", "tnr", "gm", "max_gm"):
            assert r[key] == pytest.approx(exp[key], abs=1e-12), (tracker, key)
        for key in ("TP", "FN", "TN", "FP", "num_present", "num_absent"):
            assert r[key] == exp[key]
        published = exp["published_table_0.5"]
        assert r["max_gm"] == pytest.approx(published["MaxGM"], abs=1e-6)
        assert len(r["per_sequence"]) == exp["num_tracks"]


@pytest.mark.parametrize("case", ["oxuva_synth_1", "oxuva_synth_2"])
def test_oxuva_predictions(shared_dir, case):
    root, expected = _case(shared_dir, case)
    sequences = load_dataset("oxuva", root)
    for tracker, exp in expected["trackers"].items():
        for threshold, exp_t in exp["by_iou_threshold"].items():
            r = score_results("oxuva", sequences, root / "predictions" / tracker,
                              iou_threshold=float(threshold))
            for key in ("tpr", "tnr", "gm", "max_gm"):
                assert r[key] == pytest.approx(exp_t[key], abs=1e-12), (tracker, threshold, key)
        r = score_results("oxuva", sequences, root / "predictions" / tracker)
        for key in ("TP", "FN", "TN", "FP"):
            assert r[key] == exp[key]
        for track, counts in exp["per_track_iou_0.5"].items():
            assert {k: r["per_sequence"][track][k] for k in counts} == counts, track


def test_cli_votlt_and_oxuva_assessments(shared_dir, tmp_path):
    root, expected = _case(shared_dir, "vot_lt_2")
    out = tmp_path / "vot.json"
    args = ["score", "--dataset", "votlt2020", "--root", str(root), "--json", str(out),
            "--plots", str(tmp_path / "plots")]
    for tracker in expected["trackers"]:
        args += ["--results", str(root / "results" / tracker)]
    assert main(args) == 0
    got = json.loads(out.read_text())
    for tracker, exp in expected["trackers"].items():
        assert got[tracker]["f_score"] == pytest.approx(exp["f_score"], abs=1e-9)
    assert (tmp_path / "plots" / "f_score.png").stat().st_size > 1000

    root, expected = _case(shared_dir, "oxuva_real")
    out = tmp_path / "oxuva.json"
    args = ["score", "--dataset", "oxuva", "--json", str(out)]  # no --root: assessments only
    for tracker in expected["trackers"]:
        args += ["--results", str(root / "assess" / "test" / tracker)]
    assert main(args) == 0
    got = json.loads(out.read_text())
    assert got["lct"]["max_gm"] == pytest.approx(expected["trackers"]["lct"]["max_gm"], abs=1e-12)


@pytest.mark.parametrize("case,dataset,results", [("vot_lt_1", "votlt2020", "results"), ("otb", "otb", "results"),
                                                  ("got10k", "got10k", "results"),
                                                  ("oxuva_synth_1", "oxuva", "predictions")])
def test_sequence_order_does_not_change_scores(shared_dir, case, dataset, results):
    root, expected = _case(shared_dir, case)
    sequences = load_dataset(dataset, root / ("sequences" if case == "otb" else "."))
    shuffled = [sequences[i] for i in np.random.default_rng(0).permutation(len(sequences))]
    tracker = next(iter(expected["trackers"]))
    a = score_results(dataset, sequences, root / results / tracker)
    b = score_results(dataset, shuffled, root / results / tracker)
    for key in ("success_auc", "precision", "recall", "f_score", "ao", "sr50", "tpr", "tnr", "max_gm"):
        if key in a:
            assert a[key] == pytest.approx(b[key], abs=1e-12), key
