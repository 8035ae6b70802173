"""Tables, JSON, plots and the ``longtrack score`` command's errors."""
import json
import math

import numpy as np
import pytest

from longtrack.cli import main
from longtrack.datasets import Sequence
from longtrack.evaluation import report
from longtrack.evaluation.plots import plot_results
from longtrack.evaluation.result_formats import write_sequence_results
from longtrack.evaluation.scoring import score_results


def _sequences(count=4, n=30):
    rng = np.random.default_rng(3)
    out = []
    for i in range(count):
        boxes = np.column_stack([rng.uniform(0, 200, (n, 2)), rng.uniform(10, 50, (n, 2))])
        absent = np.zeros(n, bool)
        if i % 2:
            absent[10:14] = True
        out.append(Sequence(name=f"cls-{i}", frames=[], boxes=boxes, absent=absent, image_size=(320, 240),
                            attributes={"full_occlusion": absent.copy(), "out_of_view": np.zeros(n, bool)}))
    return out


def _run(tmp_path, sequences, name, noise):
    rng = np.random.default_rng(len(name))
    for s in sequences:
        boxes = s.boxes + rng.normal(0, noise, s.boxes.shape)
        write_sequence_results("synthetic", tmp_path / name, s, boxes, rng.uniform(0, 1, len(s)),
                               ~s.absent, np.full(len(s), 0.01))
    return tmp_path / name


def test_tables_json_and_plots(tmp_path):
    sequences = _sequences()
    results = {n: score_results("synthetic", sequences, _run(tmp_path, sequences, n, noise))
               for n, noise in (("Good", 1.0), ("Bad", 12.0))}
    md = report.markdown_table(results, "ope").splitlines()
    assert md[0].startswith("| Tracker | Success AUC | Precision@20 | Norm. precision | TPR | TNR | MaxGM")
    assert md[2].startswith("| Good |") and md[3].startswith("| Bad |")
    csv_lines = report.csv_text(results, "ope").splitlines()
    assert csv_lines[1].split(",")[1] == repr(results["Good"]["success_auc"])
    data = json.loads(json.dumps(report.to_json(results)))
    assert data["Good"]["curves"]["success"][0] == pytest.approx(results["Good"]["curves"]["success"][0])
    assert report.to_json({"x": float("nan"), "y": np.float32(0.5)}) == {"x": None, "y": 0.5}
    breakdown = report.attribute_breakdown(sequences, results["Good"]["per_sequence"])
    assert set(breakdown) == {"full_occlusion"} and breakdown["full_occlusion"][1] == 2
    paths = plot_results(results, "ope", tmp_path / "plots", "synthetic", sequences)
    names = {p.name for p in paths}
    assert {"success.png", "precision.png", "norm_precision.png", "tpr_tnr.png",
            "attributes_success_auc.png"} <= names
    assert all(p.stat().st_size > 5000 for p in paths)


def test_cli_errors_are_one_line(tmp_path, capsys, shared_dir):
    root = shared_dir / "fixtures" / "eval" / "otb"
    assert main(["score", "--dataset", "otb", "--root", str(root / "sequences"),
                 "--results", str(tmp_path / "missing")]) == 1
    assert "result folder" in capsys.readouterr().err
    assert main(["score", "--dataset", "otb", "--results", str(root / "results" / "Good")]) == 1
    assert "--root is required" in capsys.readouterr().err
    (tmp_path / "Good").mkdir()
    assert main(["score", "--dataset", "otb", "--root", str(root / "sequences"),
                 "--results", str(tmp_path / "Good")]) == 1
    err = capsys.readouterr().err
    assert "Synth01.txt: result file missing" in err and "Traceback" not in err
    assert main(["score", "--dataset", "otb", "--root", str(root / "sequences"),
                 "--results", str(root / "results" / "Good"), "--results", str(tmp_path / "Good")]) == 1
    assert "same tracker name: Good" in capsys.readouterr().err


def test_cli_otb_with_plots_and_tables(tmp_path, shared_dir, capsys):
    root = shared_dir / "fixtures" / "eval" / "otb"
    expected = json.loads((root / "expected.json").read_text())
    args = ["score", "--dataset", "otb", "--root", str(root / "sequences"), "--plots", str(tmp_path / "p"),
            "--table", str(tmp_path / "t.md"), "--csv", str(tmp_path / "t.csv"), "--json", str(tmp_path / "s.json")]
    for t in expected["trackers"]:
        args += ["--results", str(root / "results" / t)]
    assert main(args) == 0
    got = json.loads((tmp_path / "s.json").read_text())
    for t, exp in expected["trackers"].items():
        assert got[t]["success_auc"] == pytest.approx(exp["success_auc"], abs=1e-9)
        assert not math.isnan(got[t]["norm_precision"])
    assert (tmp_path / "p" / "success.png").is_file()
    assert "Good" in capsys.readouterr().out
