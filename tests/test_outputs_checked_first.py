"""Outputs are checked before the work starts (by creating the temporary file the final write
uses), and the small gaps of `score`, `bench` and `train` arguments give one clear line."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from longtrack.datasets import load_dataset
from longtrack.evaluation.runner import run_tracker_on_dataset
from longtrack.fileio import check_writable
from longtrack.synth import make_sequence, write_lasot
from longtrack.video import VideoWriter
from cli_helpers import run_cli, one_line

REPO = Path(__file__).resolve().parent.parent
# A folder no process can create files in, root included (to whom os.access says yes).
UNWRITABLE = Path("/proc")
needs_proc = pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    with VideoWriter(path, 20, (64, 48)) as writer:
        for i in range(8):
            frame = np.full((48, 64, 3), 30, np.uint8)
            frame[10:30, 10 + i:30 + i] = 220
            writer.write(frame)
    return path


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """A two-sequence synthetic benchmark and kcf's results on it."""
    root = tmp_path_factory.mktemp("bench")
    for i in range(2):
        write_lasot(make_sequence("mini", "test", i, size=(128, 96), num_frames=60), root)
    out = tmp_path_factory.mktemp("results")
    assert run_tracker_on_dataset("kcf", "synthetic", load_dataset("synthetic", root, progress=False), out,
                                  progress=False).ok
    return root, out / "kcf"


@needs_proc
def test_track_refuses_an_unwritable_out_before_tracking(clip, tmp_path, capsys):
    render = tmp_path / "render.mp4"
    code, _, err = run_cli(capsys, "track", clip, "--box", "10,10,20,20", "--tracker", "kcf",
                           "--out", UNWRITABLE / "longtrack-test.csv", "--render", render)
    assert code == 1 and "cannot" in one_line(err) and "longtrack-test.csv" in err
    assert not render.exists()  # nothing was tracked or rendered


def test_a_long_output_name_works(clip, tmp_path, capsys):
    out = tmp_path / ("p" * 250 + ".csv")  # its temporary's name must still fit in 255 bytes
    code, _, err = run_cli(capsys, "track", clip, "--box", "10,10,20,20", "--tracker", "kcf", "--out", out)
    assert code == 0, err
    assert out.is_file()
    with pytest.raises(Exception, match="longer than"):
        check_writable(tmp_path / ("q" * 300 + ".csv"))


@needs_proc
def test_bench_refuses_an_unwritable_json_before_measuring(capsys):
    code, out, err = run_cli(capsys, "bench", "--trackers", "kcf", "--frames", "1",
                             "--json", UNWRITABLE / "longtrack-test.json")
    assert code == 1 and "longtrack-test.json" in one_line(err)
    assert "fps" not in out  # no measurement ran


def test_bench_threads_must_be_positive(capsys):
    code, _, err = run_cli(capsys, "bench", "--trackers", "kcf", "--threads", "-1")
    assert code == 1 and "--threads must be 1 or more, got -1" in one_line(err)


@needs_proc
def test_score_refuses_unwritable_outputs_before_scoring(scored, capsys):
    root, results = scored
    for option, path in (("--json", UNWRITABLE / "longtrack-test.json"), ("--plots", UNWRITABLE / "longtrack-test")):
        code, out, err = run_cli(capsys, "score", "--dataset", "synthetic", "--root", root, "--results", results,
                                 option, path)
        assert code == 1 and "longtrack-test" in one_line(err)
        assert "Success AUC" not in out


@pytest.mark.parametrize("value", ["nan", "inf", "0", "1.5"])
def test_score_iou_threshold_must_be_a_fraction(scored, capsys, value):
    root, results = scored
    code, _, err = run_cli(capsys, "score", "--dataset", "synthetic", "--root", root, "--results", results,
                           f"--iou-threshold={value}")
    assert code == 1 and "--iou-threshold must be a number in (0, 1]" in one_line(err)


def test_score_says_why_the_lt_f_score_column_is_missing(scored, tmp_path, capsys):
    root, results = scored
    code, out, _ = run_cli(capsys, "score", "--dataset", "synthetic", "--root", root, "--results", results)
    assert code == 0 and "LT F-score" in out
    partial = tmp_path / "kcf-partial"
    partial.mkdir()
    for f in results.iterdir():
        if f.is_file():
            (partial / f.name).write_bytes(f.read_bytes())
    os.remove(next(partial.glob("*_confidence.value")))
    code, out, err = run_cli(capsys, "score", "--dataset", "synthetic", "--root", root, "--results", results,
                             "--results", partial)
    assert code == 0 and "LT F-score" not in out.splitlines()[1]
    assert "kcf-partial: 1 of 2 sequences have no confidence file" in err and "no LT F-score" in err


@needs_proc
def test_train_refuses_an_unwritable_out_in_one_line(capsys):
    code, _, err = run_cli(capsys, "train", REPO / "configs" / "procontext-synth.yaml",
                           "--out", UNWRITABLE / "longtrack-test")
    assert code == 1 and "cannot create folder" in one_line(err) and "FileNotFoundError" not in err


def test_train_out_inside_a_file_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    code, _, err = run_cli(capsys, "train", REPO / "configs" / "procontext-synth.yaml", "--out", blocker)
    assert code == 1 and "is a file" in one_line(err)
