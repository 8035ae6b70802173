"""Frame sources, the MP4 writer, the annotation drawer and the predictions CSV."""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

from longtrack.contract import Prediction
from longtrack.errors import LongtrackError
from longtrack.predictions_io import read_predictions_csv, write_predictions_csv
from longtrack.video import (ABSENT_COLOR, PRED_COLOR, ImageFolderSource, VideoFileSource, VideoWriter,
                             draw_prediction, natural_key, open_source, read_image)


def moving_square_frames(count: int, width: int = 96, height: int = 64):
    """Frames with a white square moving right by 2 px per frame on a dark background."""
    for i in range(count):
        frame = np.full((height, width, 3), 30, np.uint8)
        frame[20:40, 10 + 2 * i:30 + 2 * i] = 255
        yield frame


def write_png(path, image_rgb_or_gray):
    image = image_rgb_or_gray
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA)
    assert cv2.imwrite(str(path), image)


def test_mp4_round_trip_keeps_count_size_and_content(tmp_path):
    path = tmp_path / "clip.mp4"
    frames = list(moving_square_frames(30))
    with VideoWriter(path, 25, (96, 64)) as writer:
        for frame in frames:
            writer.write(frame)
    source = open_source(path)
    assert isinstance(source, VideoFileSource)
    assert source.size == (96, 64)
    assert source.fps == pytest.approx(25.0)
    decoded = list(source)
    assert len(decoded) == 30
    for original, back in zip(frames, decoded):
        assert back.shape == (64, 96, 3) and back.dtype == np.uint8
        # lossy H.264: close on average, and the square is where it was written
        assert np.abs(back.astype(int) - original.astype(int)).mean() < 6
    square_columns = np.flatnonzero(decoded[10][30, :, 0] > 128)
    assert abs(square_columns.min() - 30) <= 1 and abs(square_columns.max() - 49) <= 1
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_odd_size_is_padded_to_even(tmp_path):
    path = tmp_path / "odd.mp4"
    with VideoWriter(path, 30, (95, 63)) as writer:
        for frame in moving_square_frames(3, 95, 63):
            writer.write(frame)
    assert open_source(path).size == (96, 64)


def test_writer_is_atomic_when_interrupted(tmp_path):
    path = tmp_path / "broken.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(path, 30, (96, 64)) as writer:
            writer.write(next(moving_square_frames(1)))
            raise RuntimeError("interrupted")
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_writer_rejects_a_frame_of_another_size(tmp_path):
    with VideoWriter(tmp_path / "x.mp4", 30, (96, 64)) as writer:
        with pytest.raises(LongtrackError, match="size"):
            writer.write(np.zeros((10, 10, 3), np.uint8))


def test_streaming_reads_one_frame_at_a_time(tmp_path):
    path = tmp_path / "clip.mp4"
    with VideoWriter(path, 30, (96, 64)) as writer:
        for frame in moving_square_frames(20):
            writer.write(frame)
    iterator = iter(open_source(path))
    first = next(iterator)
    assert first.shape == (64, 96, 3)
    assert sum(1 for _ in iterator) == 19  # a generator, not a list decoded up front


def test_image_folder_natural_order_mixes_png_and_jpg(tmp_path):
    values = {"f1.png": 10, "f2.jpg": 60, "f10.png": 200, "F3.JPEG": 120}
    for name, value in values.items():
        cv2.imwrite(str(tmp_path / name), np.full((20, 30, 3), value, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    source = open_source(tmp_path)
    assert isinstance(source, ImageFolderSource)
    assert [p.name for p in source.paths] == ["f1.png", "f2.jpg", "F3.JPEG", "f10.png"]
    assert source.num_frames == 4 and source.size == (30, 20)
    means = [float(frame.mean()) for frame in source]
    assert means == pytest.approx([10, 60, 120, 200], abs=3)


def test_natural_key_orders_numbers_by_value():
    names = ["img10.jpg", "img2.jpg", "img1.jpg", "img100.jpg"]
    assert sorted(names, key=natural_key) == ["img1.jpg", "img2.jpg", "img10.jpg", "img100.jpg"]


def test_grayscale_and_rgba_images_are_converted(tmp_path):
    gray = np.tile(np.arange(0, 200, 10, dtype=np.uint8), (8, 1))
    write_png(tmp_path / "gray.png", gray)
    rgba = np.zeros((8, 20, 4), np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2], rgba[..., 3] = 200, 100, 50, 128
    write_png(tmp_path / "rgba.png", rgba)
    loaded_gray = read_image(tmp_path / "gray.png")
    assert loaded_gray.shape == (8, 20, 3)
    assert np.array_equal(loaded_gray[..., 0], gray) and np.array_equal(loaded_gray[..., 2], gray)
    loaded_rgba = read_image(tmp_path / "rgba.png")
    assert loaded_rgba.shape == (8, 20, 3)
    assert tuple(loaded_rgba[0, 0]) == (200, 100, 50)  # colour order kept, alpha dropped


def test_writer_and_drawer_accept_grayscale_and_rgba(tmp_path):
    gray = np.full((64, 96), 90, np.uint8)
    rgba = np.full((64, 96, 4), 90, np.uint8)
    pred = Prediction((10, 10, 20, 20), 0.8, True)
    with VideoWriter(tmp_path / "g.mp4", 30, (96, 64)) as writer:
        for frame in (gray, rgba):
            annotated = draw_prediction(frame, pred)
            assert annotated.shape == (64, 96, 3)
            writer.write(frame)
    assert len(list(open_source(tmp_path / "g.mp4"))) == 2


def test_draw_marks_box_and_absent_differently():
    frame = np.zeros((120, 160, 3), np.uint8)
    shown = draw_prediction(frame, Prediction((40, 50, 30, 30), 0.9, True), gt_box=(42, 52, 30, 30), frame_index=7)
    assert np.all(shown[50, 55] == PRED_COLOR)  # top edge of the predicted box
    assert not np.any(np.all(shown == ABSENT_COLOR, axis=2))
    absent = draw_prediction(frame, Prediction((40, 50, 30, 30), 0.1, False))
    banner_rows = np.all(absent[:5] == ABSENT_COLOR, axis=2).mean()
    assert banner_rows > 0.5  # a red banner across the top says ABSENT
    assert not np.any(np.all(absent == PRED_COLOR, axis=2))  # no box claims a position
    assert np.array_equal(frame, np.zeros_like(frame))  # the input is not modified


@pytest.mark.parametrize("content", [b"", b"this is not a video at all" * 50])
def test_corrupt_video_is_a_clear_error(tmp_path, content):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(LongtrackError, match="bad.mp4"):
        open_source(path)


def test_truncated_video_is_an_error_or_a_shorter_stream(tmp_path):
    path = tmp_path / "clip.mp4"
    with VideoWriter(path, 30, (96, 64)) as writer:
        for frame in moving_square_frames(30):
            writer.write(frame)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(path.read_bytes()[: os.path.getsize(path) // 3])
    try:
        frames = list(open_source(cut))
    except LongtrackError as exc:
        assert "cut.mp4" in str(exc)
    else:
        assert len(frames) < 30


def test_missing_sources_and_images(tmp_path):
    with pytest.raises(LongtrackError, match="not found"):
        open_source(tmp_path / "missing.mp4")
    with pytest.raises(LongtrackError, match="no images"):
        open_source(tmp_path)
    with pytest.raises(LongtrackError, match="not found"):
        read_image(tmp_path / "missing.png")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(LongtrackError, match="broken.jpg"):
        read_image(tmp_path / "broken.jpg")


def test_predictions_csv_round_trip(tmp_path):
    preds = [Prediction((1.5, 2.25, 30, 40), 1.0, True), Prediction((3, 4, 30, 41.125), 0.25, False)]
    path = tmp_path / "out.csv"
    assert write_predictions_csv(path, preds) == 2
    assert path.read_text().splitlines()[0] == "frame,x,y,w,h,score,present"
    assert path.read_text().splitlines()[2] == "1,3.000,4.000,30.000,41.125,0.25000,0"
    assert read_predictions_csv(path) == preds


def test_predictions_csv_errors_name_file_and_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("frame,x,y,w,h,score,present\n0,1,2,3,4,1.0,1\n2,1,2,3,4,1.0,1\n")
    with pytest.raises(LongtrackError, match=r"bad.csv:3"):
        read_predictions_csv(path)
    path.write_text("frame,x,y,w,h,score,present\n0,1,2,x,4,1.0,1\n")
    with pytest.raises(LongtrackError, match=r"bad.csv:2"):
        read_predictions_csv(path)
