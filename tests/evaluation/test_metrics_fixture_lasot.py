"""LaSOT on 280 real test sequences with three published trackers' raw results: the numbers of
the official MATLAB toolkit (run in Octave) and of the got10k toolkit's LaSOT variant, and the
AUCs the trackers' papers report."""
import json

import pytest

from longtrack.cli import main
from longtrack.datasets import load_dataset
from longtrack.evaluation.scoring import score_results

TRACKERS = ("SiamRPN++", "SiamBAN", "Ocean")
PAPER_AUC = {"SiamRPN++": 49.6, "SiamBAN": 51.4, "Ocean": 52.6}
KEYS = ("success_auc", "precision", "norm_precision")


@pytest.fixture(scope="module")
def lasot(shared_dir):
    root = shared_dir / "fixtures" / "eval" / "lasot"
    expected = json.loads((root / "expected.json").read_text())
    return root, load_dataset("lasot", root), expected


@pytest.fixture(scope="module")
def scored(lasot):
    root, sequences, _ = lasot
    return {t: score_results("lasot", sequences, root / "results" / t) for t in TRACKERS}


def test_uses_the_280_test_sequences_in_toolkit_order(lasot):
    root, sequences, expected = lasot
    assert [s.name for s in sequences] == (root / "testing_set.txt").read_text().split()
    assert len(sequences) == expected["num_sequences"] == 280


@pytest.mark.parametrize("tracker", TRACKERS)
def test_matlab_toolkit_numbers(scored, lasot, tracker):
    expected = lasot[2]["trackers"][tracker]
    result = scored[tracker]
    for key in KEYS:
        assert result[key] == pytest.approx(expected[key], abs=1e-9), key
    for name, exp in expected["per_sequence"].items():
        for key in KEYS:
            assert result["per_sequence"][name][key] == pytest.approx(exp[key], abs=1e-12), (name, key)


@pytest.mark.parametrize("tracker", TRACKERS)
def test_paper_auc(scored, tracker):
    assert round(100 * scored[tracker]["success_auc"], 1) == PAPER_AUC[tracker]


@pytest.mark.parametrize("tracker", TRACKERS)
def test_got10k_head_variant(lasot, tracker):
    root, sequences, expected = lasot
    result = score_results("lasot", sequences, root / "results" / tracker, convention="got10k_head")
    exp = expected["got10k_head"][tracker]
    for key in KEYS:
        assert result[key] == pytest.approx(exp[key], abs=1e-9), key
    assert result["success_rate_50"] == pytest.approx(exp["success_rate_0.5"], abs=1e-9)
    assert sum(result["curves"]["norm_precision"]) / 51 == pytest.approx(
        exp["normalized_precision_score_mean_0_to_0.5"], abs=1e-9)


def test_redetection_reported_for_a_dataset_with_absence(scored):
    r = scored["Ocean"]["redetection"]
    assert r["num_reappearances"] > 0
    assert 0 < r["redetected_fraction"] < 1


def test_cli_reproduces_expected_json(lasot, tmp_path, capsys):
    root, _, expected = lasot
    out = tmp_path / "scores.json"
    args = ["score", "--dataset", "lasot", "--root", str(root), "--json", str(out),
            "--table", str(tmp_path / "t.md"), "--csv", str(tmp_path / "t.csv")]
    for t in TRACKERS:
        args += ["--results", str(root / "results" / t)]
    assert main(args) == 0
    got = json.loads(out.read_text())
    assert set(got) == set(TRACKERS)
    for t in TRACKERS:
        for key in KEYS:
            assert got[t][key] == pytest.approx(expected["trackers"][t][key], abs=1e-9)
        assert set(got[t]["per_sequence"]) == set(expected["trackers"][t]["per_sequence"])
    printed = capsys.readouterr().out
    assert "52.6" in printed and "Ocean" in printed
    table = (tmp_path / "t.md").read_text().splitlines()
    assert table[2].startswith("| Ocean | 52.6 |")  # ranked by success AUC
    assert (tmp_path / "t.csv").read_text().splitlines()[1].startswith("Ocean,0.52636385326")
