"""`longtrack track`, `trackers` and `demo` from the command line: results, and every bad input
ending in one line on stderr and exit code 1."""
from __future__ import annotations

import csv
import os
import subprocess
import sys

import numpy as np
import pytest

from longtrack.contract import Prediction
from longtrack.drawing import ABSENT_COLOR, TARGET_COLORS, draw_targets
from longtrack.predictions_io import read_predictions_csv
from longtrack.video import VideoWriter, open_source
from cli_helpers import run_cli


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 20-frame 128x96 MP4: a textured square moving right 2 px per frame."""
    path = tmp_path_factory.mktemp("clip") / "square.mp4"
    rng = np.random.default_rng(0)
    background = rng.integers(0, 80, (96, 128, 3), dtype=np.uint8)
    texture = rng.integers(120, 255, (24, 24, 3), dtype=np.uint8)
    with VideoWriter(path, 20, (128, 96)) as writer:
        for i in range(20):
            frame = background.copy()
            frame[30:54, 20 + 2 * i:44 + 2 * i] = texture
            writer.write(frame)
    return path


def assert_one_line_error(code, err, *fragments):
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("longtrack: error: ") and "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


def test_track_writes_csv_and_rendering(clip, tmp_path, capsys):
    out, render = tmp_path / "res" / "pred.csv", tmp_path / "res" / "pred.mp4"
    code, _, err = run_cli(capsys, "track", clip, "--box", "20,30,24,24", "--tracker", "csrt",
                           "--out", out, "--render", render)
    assert code == 0, err
    preds = read_predictions_csv(out)
    assert len(preds) == 20
    assert preds[0].box == (20.0, 30.0, 24.0, 24.0)
    last = preds[-1]
    assert last.present and abs(last.box[0] - 58) <= 3 and abs(last.box[1] - 30) <= 3
    rendered = open_source(render)
    assert rendered.size == (128, 96) and len(list(rendered)) == 20
    assert sorted(p.name for p in out.parent.iterdir()) == ["pred.csv", "pred.mp4"]  # no temp files


def test_track_without_out_prints_csv(clip, capsys):
    code, out, err = run_cli(capsys, "track", clip, "--box", "20,30,24,24", "--tracker", "kcf")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0] == "frame,x,y,w,h,score,present" and len(lines) == 21


def read_target_rows(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


@pytest.mark.parametrize("tracker", ["csrt", "globaltrack"])  # N separate passes / one pass for all
def test_track_several_boxes_writes_a_row_per_target(clip, tmp_path, capsys, tracker):
    out, render = tmp_path / "multi.csv", tmp_path / "multi.mp4"
    code, _, err = run_cli(capsys, "track", clip, "--box", "20,30,24,24", "--box", "-5,60,30,20", "--tracker",
                           tracker, "--out", out, "--render", render)
    assert code == 0, err
    header, rows = read_target_rows(out)
    assert header == ["frame", "target", "x", "y", "w", "h", "score", "present"]
    assert len(rows) == 2 * 20
    assert [(int(r[0]), int(r[1])) for r in rows] == [(f, t) for f in range(20) for t in range(2)]
    assert [float(v) for v in rows[0][2:6]] == [20.0, 30.0, 24.0, 24.0]
    assert [float(v) for v in rows[1][2:6]] == [0.0, 60.0, 25.0, 20.0]  # the second box, clipped
    if tracker == "csrt":  # the textured square moved 38 px right
        assert abs(float(rows[-2][2]) - 58) <= 3 and abs(float(rows[-2][3]) - 30) <= 3
    assert len(list(open_source(render))) == 20


def test_rendering_several_targets_tags_each_box_with_its_colour_and_index():
    frame = np.zeros((120, 160, 3), np.uint8)
    preds = [Prediction((20, 40, 30, 30), 0.9, True), Prediction((90, 60, 40, 30), 0.7, True),
             Prediction((5, 5, 10, 10), 0.1, False)]
    shown = draw_targets(frame, preds, frame_index=3)
    for (x, y, w, _), color in zip((p.box for p in preds[:2]), TARGET_COLORS):
        assert np.all(shown[int(y), int(x + w / 2)] == color)  # top edge, in the target's colour
        tag = shown[int(y) - 14:int(y) - 3, int(x):int(x) + 30]  # "index: score" above the box
        assert np.all(tag == color, axis=2).mean() > 0.3 and np.any(np.all(tag == 0, axis=2))
    assert TARGET_COLORS[0] != TARGET_COLORS[1]
    assert np.all(shown[:3] == ABSENT_COLOR, axis=2).mean() > 0.5  # target 2 is named in the banner
    one = draw_targets(frame, preds[:2])
    assert not np.any(np.all(one == ABSENT_COLOR, axis=2))  # all present: no banner


def test_one_box_keeps_the_single_target_header(clip, tmp_path, capsys):
    out = tmp_path / "one.csv"
    code, _, err = run_cli(capsys, "track", clip, "--box", "20,30,24,24", "--tracker", "kcf", "--out", out)
    assert code == 0, err
    header, rows = read_target_rows(out)
    assert header == ["frame", "x", "y", "w", "h", "score", "present"] and len(rows) == 20
    assert len(read_predictions_csv(out)) == 20


def test_trackers_lists_baselines(capsys):
    code, out, _ = run_cli(capsys, "trackers")
    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines()[2:]}
    for name in ("csrt", "kcf", "tld", "classic-lt"):
        assert name in rows and "not needed" in rows[name]
    assert "(default)" in rows["classic-lt"] and "TANet" in rows["classic-lt"]


@pytest.mark.parametrize("box, fragment", [
    ("10,10,0,20", "positive width"),
    ("10,10,-5,20", "positive width"),
    ("nan,10,20,20", "NaN"),
    ("10,10,20", "four numbers"),
    ("a,b,c,d", "four numbers"),
    ("500,10,20,20", "outside the first frame"),
    ("-40,-40,20,20", "outside the first frame"),
])
def test_bad_boxes(clip, capsys, box, fragment):
    code, _, err = run_cli(capsys, "track", clip, f"--box={box}")
    assert_one_line_error(code, err, fragment)


def test_bad_sources(tmp_path, capsys):
    code, _, err = run_cli(capsys, "track", tmp_path / "missing.mp4", "--box", "1,1,5,5")
    assert_one_line_error(code, err, "not found", "missing.mp4")
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42 garbage" * 40)
    code, _, err = run_cli(capsys, "track", corrupt, "--box", "1,1,5,5")
    assert_one_line_error(code, err, "corrupt.mp4")
    empty = tmp_path / "empty_folder"
    empty.mkdir()
    (empty / "readme.txt").write_text("no images here")
    code, _, err = run_cli(capsys, "track", empty, "--box", "1,1,5,5")
    assert_one_line_error(code, err, "no images")
    bad_image_folder = tmp_path / "bad_images"
    bad_image_folder.mkdir()
    (bad_image_folder / "00001.jpg").write_bytes(b"not a jpeg")
    code, _, err = run_cli(capsys, "track", bad_image_folder, "--box", "1,1,5,5")
    assert_one_line_error(code, err, "00001.jpg")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_video(clip, tmp_path, capsys):
    locked = tmp_path / "locked.mp4"
    locked.write_bytes(clip.read_bytes())
    locked.chmod(0)
    code, _, err = run_cli(capsys, "track", locked, "--box", "20,30,24,24")
    assert_one_line_error(code, err, "locked.mp4")


def test_unknown_tracker(clip, capsys):
    code, _, err = run_cli(capsys, "track", clip, "--box", "20,30,24,24", "--tracker", "no-such-tracker")
    assert_one_line_error(code, err, "unknown tracker", "no-such-tracker")


def test_unwritable_outputs_fail_before_tracking(clip, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    render = tmp_path / "render.mp4"
    # --out inside a "folder" that is a file: cannot be created, even by root
    code, _, err = run_cli(capsys, "track", clip, "--box", "20,30,24,24", "--out", blocker / "out.csv",
                           "--render", render)
    assert_one_line_error(code, err, "a_file")
    assert not render.exists()  # nothing was tracked or rendered before the check
    code, _, err = run_cli(capsys, "track", clip, "--box", "20,30,24,24", "--out", tmp_path)
    assert_one_line_error(code, err, "folder")
    code, _, err = run_cli(capsys, "track", clip, "--box", "20,30,24,24", "--render", tmp_path / "x.avi")
    assert_one_line_error(code, err, ".mp4")


def test_missing_weights_file_is_one_line(clip, tmp_path, capsys):
    code, _, err = run_cli(capsys, "track", clip, "--box", "20,30,24,24", "--tracker", "csrt",
                           "--weights", tmp_path / "none.pt")
    assert_one_line_error(code, err, "weights")


def test_demo_bad_inputs(tmp_path, capsys):
    code, _, err = run_cli(capsys, "demo", "--out", tmp_path / "d", "--tracker", "nope")
    assert_one_line_error(code, err, "unknown tracker")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run_cli(capsys, "demo", "--out", blocker)
    assert_one_line_error(code, err, "file")


def test_real_entry_point_prints_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "longtrack", "track", str(tmp_path / "none.mp4"), "--box",
                             "1,2,3,4"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_writes_video_predictions_and_scores(tmp_path, capsys):
    out = tmp_path / "demo"
    code, stdout, err = run_cli(capsys, "demo", "--out", out)
    assert code == 0, err
    preds = read_predictions_csv(out / "predictions.csv")
    video = open_source(out / "demo.mp4")
    assert len(list(video)) == len(preds) > 50
    assert any(not p.present for p in preds)  # the clip has an exit: the ABSENT mark is shown
    for label in ("success AUC", "precision", "presence TPR", "presence TNR"):
        assert label in stdout
    auc = float(next(line.split()[2] for line in stdout.splitlines() if line.startswith("success AUC")))
    assert 0.0 <= auc <= 1.0
