"""longtrack calibrate classic-lt and tanet (dmtrack: test_calibrate_dmtrack.py): each tracker's
--help, a small run that prints what the docs quote (and, for tanet, lands in the weights file the
tracker reads), and bad input as one line."""
from __future__ import annotations

import re
import shutil

import pytest

from cli_helpers import one_line, run_cli
from longtrack.checkpoint import load_weights
from longtrack.registry import get_tracker_spec
from longtrack.trackers.tanet import TANetTracker


@pytest.mark.parametrize("tracker", ["dmtrack", "classic-lt", "tanet"])
def test_each_tracker_has_help(tracker, capsys):
    with pytest.raises(SystemExit) as exit_:
        run_cli(capsys, "calibrate", tracker, "--help")
    assert exit_.value.code == 0
    assert f"longtrack calibrate {tracker}" in capsys.readouterr().out


def test_classic_lt_prints_the_three_numbers_and_a_reliability_table(capsys):
    code, out, _ = run_cli(capsys, "calibrate", "classic-lt", "--preset", "mini", "--num", 1, "--size", "96x72",
                           "--stride", 20)
    assert code == 0
    samples = int(re.search(r"^(\d+) samples, ([\d.]+) of them on the target$", out, re.M).group(1))
    assert re.search(r"^w_peak=-?[\d.]+, w_bank=-?[\d.]+, bias=-?[\d.]+$", out, re.M)
    bins = [int(n) for n in re.findall(r"^  \[[\d.]+, [\d.]+\): [\d.]+ / [\d.]+ / (\d+)$", out, re.M)]
    assert bins and sum(bins) == samples


def test_tanet_writes_the_threshold_of_the_best_centre_hit(tmp_path, capsys):
    weights = tmp_path / "tanet.pt"
    shutil.copy(get_tracker_spec("tanet:kcf").weights_path(), weights)
    code, out, _ = run_cli(capsys, "calibrate", "tanet", "--weights", weights, "--split", "val", "--videos", 1,
                           "--frames", 40, "--every", 20, "--thresholds", "0.2,0.5", "--write", weights)
    assert code == 0
    hits = {float(t): float(h) for t, h in re.findall(r"threshold ([\d.]+)\]: .*centre hit ([\d.]+)", out)}
    assert set(hits) == {0.2, 0.5}
    stored = load_weights(weights).tracker_config(str(weights))
    assert hits[stored["attention_threshold"]] == max(hits.values())
    assert stored["attention_threshold_tuning"]["thresholds"] == [0.2, 0.5]
    assert TANetTracker(weights=str(weights), local_tracker="kcf").attention_threshold == stored["attention_threshold"]


@pytest.mark.parametrize("argv, message", [
    (["classic-lt", "--stride", "0"], "--stride must be >= 1"),
    (["classic-lt", "--size", "big"], "big"),
    (["tanet", "--weights", "none", "--write", "x.pt"], "--write needs --weights"),
    (["tanet", "--thresholds", "0.1,high"], "--thresholds '0.1,high': expected comma-separated numbers"),
    (["tanet", "--every", "0"], "--every must be >= 1"),
    (["dmtrack", "--weights", "w.pt", "--synth", "lt-real"], "expected PRESET:N"),
])
def test_bad_input_is_one_line(argv, message, capsys):
    code, _, err = run_cli(capsys, "calibrate", *argv)
    assert code == 1 and message in one_line(err)
