"""`longtrack track` on hostile input: a truncated MP4 (a real file, cut), first boxes too big,
too small or starting left of the frame, and a tracker that raises -- each an exit code and one
line, never a silently short result or OpenCV's multi-line message."""
from __future__ import annotations

import av
import numpy as np
import pytest

from longtrack import registry
from longtrack.contract import Prediction
from longtrack.errors import LongtrackError
from longtrack.predictions_io import read_predictions_csv
from longtrack.trackers.opencv_trackers import KCFTracker
from longtrack.video import VideoWriter, open_source
from cli_helpers import run_cli, one_line

DECLARED = 110


@pytest.fixture(scope="module")
def cut_video(tmp_path_factory):
    """A faststart MP4 (header first) of 110 frames, cut to 60% of its bytes: the header still
    promises 110 frames, about 60 decode."""
    folder = tmp_path_factory.mktemp("cut")
    whole = folder / "whole.mp4"
    rng = np.random.default_rng(1)
    with av.open(str(whole), "w", format="mp4", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264" if "libx264" in av.codecs_available else "h264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 96, 72, "yuv420p"
        for i in range(DECLARED):
            frame = rng.integers(0, 90, (72, 96, 3), dtype=np.uint8)  # noise: every frame about as big
            frame[20:44, 10 + i // 2:34 + i // 2] = 230
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    cut = folder / "cut.mp4"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) * 6 // 10])
    return cut


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("clip") / "square.mp4"
    rng = np.random.default_rng(0)
    background = rng.integers(0, 80, (96, 128, 3), dtype=np.uint8)
    with VideoWriter(path, 20, (128, 96)) as writer:
        for i in range(12):
            frame = background.copy()
            frame[30:54, 20 + 2 * i:44 + 2 * i] = 200
            writer.write(frame)
    return path


def test_a_truncated_video_is_an_error_unless_accepted(cut_video, tmp_path, capsys):
    source = open_source(cut_video)
    assert source.num_frames == DECLARED
    with pytest.raises(LongtrackError, match=rf"cut.mp4: only \d+ of the {DECLARED} frames"):
        list(source)
    decoded = len(list(open_source(cut_video, allow_truncated=True)))
    assert 0 < decoded < DECLARED

    out = tmp_path / "pred.csv"
    code, _, err = run_cli(capsys, "track", cut_video, "--box", "10,20,24,24", "--tracker", "kcf", "--out", out)
    assert code == 1 and f"only {decoded} of the {DECLARED} frames" in one_line(err)
    assert not out.exists()  # no short CSV that looks complete
    code, _, err = run_cli(capsys, "track", cut_video, "--box", "10,20,24,24", "--tracker", "kcf", "--out", out,
                           "--allow-truncated")
    assert code == 0 and f"declares {DECLARED} frames, only {decoded} decode" in err
    assert len(read_predictions_csv(out)) == decoded


def test_a_huge_first_box_is_clipped_to_the_frame(clip, tmp_path, capsys):
    for tracker in ("classic-lt", "kcf"):
        out = tmp_path / f"{tracker}.csv"
        code, _, err = run_cli(capsys, "track", clip, "--box=10,10,1e9,1e9", "--tracker", tracker, "--out", out)
        assert code == 0, err
        assert read_predictions_csv(out)[0].box == (10.0, 10.0, 118.0, 86.0)


def test_a_first_box_below_two_pixels_is_refused(clip, capsys):
    code, _, err = run_cli(capsys, "track", clip, "--box=0.1,0.1,0.5,0.5", "--tracker", "csrt")
    assert code == 1 and "at least 2x2 pixels" in one_line(err)


@pytest.mark.parametrize("argv", [["--box", "-5,0,10,10"], ["--box=-5,0,10,10"]])
def test_a_box_starting_left_of_the_frame_is_accepted(clip, tmp_path, capsys, argv):
    out = tmp_path / "pred.csv"
    code, _, err = run_cli(capsys, "track", clip, *argv, "--tracker", "kcf", "--out", out)
    assert code == 0, err
    assert read_predictions_csv(out)[0].box == (0.0, 0.0, 5.0, 10.0)  # clipped to the frame


class CrashingKCF(KCFTracker):
    """Raises an error with a multi-line message, as OpenCV's are, on the 5th frame."""

    def _initialize(self, frame, box):
        self.count = 0
        super()._initialize(frame, box)

    def _track(self, frame) -> Prediction:
        self.count += 1
        if self.count == 5:
            raise RuntimeError("OpenCV(5.1.0) error: (-215:Assertion failed)\n> Overload resolution failed:\n>  - x")
        return super()._track(frame)


def test_an_error_inside_a_tracker_is_one_line_naming_tracker_and_frame(clip, monkeypatch, capsys):
    registry.tracker_names()
    monkeypatch.setitem(registry._REGISTRY, "kcf", registry.TrackerSpec("kcf", f"{__name__}:CrashingKCF", "test"))
    code, _, err = run_cli(capsys, "track", clip, "--box", "20,30,24,24", "--tracker", "kcf")
    line = one_line(err)
    assert code == 1 and "tracker kcf failed on frame 5: RuntimeError: OpenCV(5.1.0) error:" in line
    assert "Overload resolution failed" in line
