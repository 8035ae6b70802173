"""longtrack tune-switching: the rule picks the separating threshold (balanced accuracy), clips
splice in absent frames, records make a rerun free, the thresholds land in the table that
``tanet:<local>`` reads, and evaluation sets are refused before anything is tracked."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import longtrack
from fabricated_lasot import SIZE, write_lasot_sequence
from longtrack.cli import main
from longtrack.errors import LongtrackError
from longtrack.evaluation.tanet_switching_tuning import (SwitchingRecord, best_cut, best_patience, choose_thresholds,
                                                          load_or_record, low_counts, training_clips)
from longtrack.registry import TrackerSpec
from longtrack.trackers.tanet_switching import PAPER_SWITCHING, read_table



def _write_sequence(root, name: str, n: int, seed: int) -> None:
    write_lasot_sequence(root, name, n, seed)


@pytest.fixture
def train_root(tmp_path):
    root = tmp_path / "train"
    _write_sequence(root, "cat-1", 16, seed=1)
    _write_sequence(root, "dog-1", 16, seed=2)
    return root


# -- the rule -----------------------------------------------------------------------------------
def test_best_cut_separates_two_distributions():
    fit = best_cut(np.array([0.7, 0.9, 0.95]), np.array([0.1, 0.2, 0.4]), prefer=0.8)
    assert fit == {"threshold": pytest.approx(0.55), "tpr": 1.0, "tnr": 1.0, "balanced_accuracy": 1.0}
    assert best_cut(np.array([1.0, 1.0, 0.0]), np.array([0.0, 0.0]), prefer=0.8)["threshold"] == 0.5  # ok flags


def test_best_cut_maximises_balanced_accuracy_on_overlapping_data():
    rng = np.random.default_rng(0)
    tracked, lost = rng.normal(0.7, 0.1, 300), rng.normal(0.45, 0.1, 100)
    fit = best_cut(tracked, lost, prefer=0.8)
    grid = np.linspace(0, 1, 2001)
    brute = max(((tracked >= t).mean() + (lost < t).mean()) / 2 for t in grid)
    assert fit["balanced_accuracy"] == pytest.approx(brute, abs=2e-3)
    achieved = ((tracked >= fit["threshold"]).mean() + (lost < fit["threshold"]).mean()) / 2
    assert achieved == pytest.approx(fit["balanced_accuracy"])
    assert 0.5 < fit["threshold"] < 0.65


def test_no_information_keeps_nothing_and_ties_go_to_the_paper():
    assert best_cut(np.ones(5), np.ones(3), prefer=0.8) is None  # an ok flag that never drops
    assert best_cut(np.array([0.1, 0.2]), np.array([0.8, 0.9]), prefer=0.8) is None  # worse than chance
    # Cuts 0.25 and 0.75 both reach balanced accuracy 0.75: the one nearer the preferred value wins.
    tied = best_cut(np.array([0.5, 1.0]), np.array([0.0, 0.5]), prefer=0.8)
    assert tied["threshold"] == pytest.approx(0.75) and tied["balanced_accuracy"] == pytest.approx(0.75)
    assert best_cut(np.array([0.5, 1.0]), np.array([0.0, 0.5]), prefer=0.1)["threshold"] == pytest.approx(0.25)


def test_patience_waits_out_short_dips_and_catches_losses():
    score = np.array([0.9, 0.2, 0.9, 0.1, 0.1, 0.9, 0.1, 0.1, 0.1, 0.1])
    assert list(low_counts(score, 0.5)) == [0, 1, 0, 1, 2, 0, 1, 2, 3, 4]
    # Dips of one and two frames while tracked; a loss lasts three frames or more.
    tracked_counts, lost_counts = np.array([0, 0, 1, 2, 0, 1, 2]), np.array([3, 4, 5, 6])
    fit = best_patience(tracked_counts, lost_counts, prefer=5, max_patience=10)
    assert fit["threshold"] == 3 and fit["balanced_accuracy"] == 1.0
    assert best_patience(np.zeros(4), np.zeros(4), prefer=5, max_patience=10) is None


def test_choose_thresholds_from_records():
    tracked = np.array([True] * 6 + [False] * 4)
    record = SwitchingRecord("a", score=np.array([0.9] * 6 + [0.3] * 4), ncc=np.array([0.8] * 6 + [0.2] * 4),
                             tracked=tracked)
    result = choose_thresholds([record], max_patience=8)
    assert result["beta1"] == pytest.approx(0.6) and result["verify_threshold"] == pytest.approx(0.5)
    assert result["beta2"] == 1  # every lost frame scores low from its first frame on
    assert (result["frames"], result["tracked_frames"], result["lost_frames"]) == (10, 6, 4)
    flat = SwitchingRecord("b", score=np.ones(10), ncc=record.ncc, tracked=tracked)
    kept = choose_thresholds([flat])
    assert kept["beta1"] == PAPER_SWITCHING["beta1"] and kept["beta2"] == PAPER_SWITCHING["beta2"]
    assert "paper's value kept" in kept["fit"]["beta1"]
    with pytest.raises(LongtrackError, match="no lost or absent frame"):
        choose_thresholds([SwitchingRecord("c", np.ones(3), np.ones(3), np.ones(3, bool))])


# -- clips and records --------------------------------------------------------------------------
def test_clips_splice_absent_frames_of_another_class(train_root):
    clips = training_clips(str(train_root), max_frames=10, absent=4)
    assert [c.name for c in clips] == ["cat-1+4xdog-1", "dog-1+4xcat-1"]
    cat = clips[0]
    assert len(cat.boxes) == 14 and list(cat.absent) == [False] * 5 + [True] * 4 + [False] * 5
    assert cat.boxes[9][0] == 25  # cat-1's sixth frame follows the gap
    assert cat.frame(5).shape == (SIZE[1], SIZE[0], 3)
    assert np.array_equal(cat.frame(5), clips[1].frame(0))  # dog-1's first frame (same size: no resize)
    only = training_clips(str(train_root), max_frames=10, absent=0, max_sequences=1)
    assert len(only) == 1 and len(only[0].boxes) == 10 and not only[0].absent.any()


def test_records_make_a_rerun_free(train_root, tmp_path):
    clip = training_clips(str(train_root), max_frames=8, absent=0, max_sequences=1)[0]
    built = []

    def factory():
        built.append(1)
        return longtrack.create("kcf")

    first = load_or_record(factory, clip, str(tmp_path / "rec"), {"local": "kcf"})
    again = load_or_record(factory, clip, str(tmp_path / "rec"), {"local": "kcf"})
    assert len(built) == 1 and np.array_equal(first.score, again.score) and np.array_equal(first.tracked, again.tracked)
    assert first.tracked.all()  # KCF follows the square
    load_or_record(factory, clip, str(tmp_path / "rec"), {"local": "kcf", "max_frames": 8})  # other settings
    assert len(built) == 2


# -- the command --------------------------------------------------------------------------------
def test_the_command_writes_the_table_that_tanet_reads(train_root, tmp_path, capsys, monkeypatch):
    table = tmp_path / "switching.json"
    argv = ["tune-switching", "--local", "kcf", "--root", str(train_root), "--max-frames", "12", "--absent", "6",
            "--records", str(tmp_path / "rec"), "--write", str(table)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    entry = read_table(str(table))["kcf"]
    assert "train (lasot), 2 sequences, max_frames 12, 6 absent frames" in entry["tuned_on"]
    assert entry["frames"] == 2 * 17 and entry["lost_frames"] >= 2 * 6  # the spliced frames are lost
    assert json.loads(printed[printed.index("{"):printed.rindex("}") + 1])["beta1"] == entry["beta1"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tracker = longtrack.create("tanet:kcf", switching_table=str(table))
    assert (tracker.beta1, tracker.beta2, tracker.verify_threshold) == \
        (entry["beta1"], entry["beta2"], entry["verify_threshold"])

    def no_tracking(*args, **kwargs):
        raise AssertionError("a rerun with records must not track again")

    monkeypatch.setattr(TrackerSpec, "build", no_tracking)
    table.unlink()
    assert main(argv) == 0
    assert read_table(str(table))["kcf"] == entry


def test_an_evaluation_set_is_refused_before_any_tracking(train_root, tmp_path, capsys):
    (train_root / "EVALUATION_ONLY").write_text("")
    table = tmp_path / "switching.json"
    assert main(["tune-switching", "--local", "kcf", "--root", str(train_root), "--write", str(table)]) == 1
    assert "is an evaluation set" in capsys.readouterr().err
    assert not table.exists()
    assert main(["tune-switching", "--local", "kcf", "--root", str(train_root / "cat")]) == 1
    assert "is an evaluation set" in capsys.readouterr().err  # a folder inside it too


def test_weights_for_another_tracker_and_a_wrapper_are_refused(train_root, capsys):
    assert main(["tune-switching", "--local", "kcf", "--root", str(train_root), "--weights", "nanotrack=x"]) == 1
    assert "not for --local kcf" in capsys.readouterr().err
    assert main(["tune-switching", "--local", "tanet:kcf", "--root", str(train_root)]) == 1
    assert "not a tanet wrapper" in capsys.readouterr().err
