"""longtrack fp16-check: a copy of the same weights passes the 0.1 px rule on a LaSOT-layout root
with no difference at all, other trained weights do not (exit status 1); --help works and bad
input is one line. (A float16 copy runs in half precision on the CPU: too slow for a test.)"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from cli_helpers import one_line, run_cli
from fabricated_lasot import write_lasot_sequence
from longtrack.evaluation.presence_tuning import write_threshold
from longtrack.registry import get_tracker_spec


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lasot")
    write_lasot_sequence(folder, "cat-1", 5, seed=1, step=2)
    write_lasot_sequence(folder, "dog-2", 5, seed=2, step=2)
    return folder


def _check(capsys, root, full, half):
    return run_cli(capsys, "fp16-check", "--tracker", "dmtrack", "--weights", full, "--half", half, "--root", root,
                   "--sequences", 2, "--frames", 5)


def test_help(capsys):
    with pytest.raises(SystemExit) as exit_:
        run_cli(capsys, "fp16-check", "--help")
    assert exit_.value.code == 0 and "--half" in capsys.readouterr().out


def test_the_same_weights_pass_and_other_weights_fail(root, tmp_path, capsys):
    torch.set_num_threads(1)
    full = get_tracker_spec("dmtrack").weights_path()  # trained: its boxes follow the square
    half = tmp_path / "half.pt"
    write_threshold(full, str(half), 0.5, "test")  # the same tensors, another file
    code, out, _ = _check(capsys, root, full, half)
    assert code == 0 and "largest box difference over all frames: 0.0000 px (ok)" in out
    assert len(re.findall(r"^(cat-1|dog-2): max box difference [\d.]+ px$", out, re.M)) == 2
    real = get_tracker_spec("globaltrack").weights_path()
    synth = str(Path(real).with_name("globaltrack-synth.pt"))  # other trained weights: other boxes
    code, out, _ = run_cli(capsys, "fp16-check", "--tracker", "globaltrack", "--weights", synth, "--half", real,
                           "--root", root, "--sequences", 2, "--frames", 5)
    assert code == 1 and "(over 0.1 px)" in out


@pytest.mark.parametrize("argv, message", [
    (["--sequences", "0"], "--sequences must be >= 1"),
    (["--frames", "1"], "--frames must be >= 2"),
])
def test_bad_input_is_one_line(argv, message, root, capsys):
    code, _, err = run_cli(capsys, "fp16-check", "--tracker", "dmtrack", "--weights", "w.pt", "--half", "h.pt",
                           "--root", root, *argv)
    assert code == 1 and message in one_line(err)


def test_a_missing_root_is_one_line(tmp_path, capsys):
    code, _, err = run_cli(capsys, "fp16-check", "--tracker", "dmtrack", "--weights", "w.pt", "--half", "h.pt",
                           "--root", tmp_path / "nowhere")
    assert code == 1 and one_line(err)
