"""``crop_around_ostrack``: the authors' ``sample_target`` (OSTrack, ProContEXT) at every edge of
the frame, against a plain numpy re-statement of their arithmetic."""
import math

import cv2
import numpy as np
import pytest

from longtrack import LongtrackError
from longtrack.crops import crop_around_ostrack, crop_region

HEIGHT, WIDTH = 90, 120


def _frame(seed=0):
    # values 1..255: a zero in the patch can only be padding
    return np.random.default_rng(seed).integers(1, 256, size=(HEIGHT, WIDTH, 3), dtype=np.uint8)


def authors_padded_crop(frame, box, factor):
    """Their sample_target up to the resize, written out: the crop square, the pads (right and
    bottom one more than the crop leaves the frame by), the frame pixels between the pads."""
    x, y, w, h = box
    side = math.ceil(math.sqrt(w * h) * factor)
    x1, y1 = round(x + 0.5 * w - side * 0.5), round(y + 0.5 * h - side * 0.5)
    x2, y2 = x1 + side, y1 + side
    x1_pad, y1_pad = max(0, -x1), max(0, -y1)
    x2_pad, y2_pad = max(x2 - frame.shape[1] + 1, 0), max(y2 - frame.shape[0] + 1, 0)
    padded = np.zeros((side, side, 3), np.uint8)
    padded[y1_pad:side - y2_pad, x1_pad:side - x2_pad] = frame[y1 + y1_pad:y2 - y2_pad, x1 + x1_pad:x2 - x2_pad]
    return padded, (x1, y1, side)


# (box, which frame edges the factor-2 crop crosses)
EDGE_BOXES = {
    "inside": (50.0, 35.0, 20.0, 20.0),
    "left": (2.0, 35.0, 20.0, 20.0),
    "right": (105.0, 35.0, 20.0, 20.0),
    "top": (50.0, 3.0, 20.0, 20.0),
    "bottom": (50.0, 80.0, 20.0, 16.0),
    "top-left corner": (-4.0, -6.0, 18.0, 22.0),
    "bottom-right corner": (108.5, 81.5, 17.0, 15.0),
    "right edge exactly": (90.0, 35.0, 20.0, 20.0),  # crop ends at column WIDTH: one pad, no overlap
}


@pytest.mark.parametrize("edge", sorted(EDGE_BOXES))
def test_padding_follows_the_authors_arithmetic(edge):
    frame, box = _frame(), EDGE_BOXES[edge]
    expected, (x1, y1, side) = authors_padded_crop(frame, box, 2.0)
    patch, transform = crop_around_ostrack(frame, box, 2.0, side)  # output = side: no resampling
    np.testing.assert_array_equal(patch, expected)
    assert (transform.x0, transform.y0, transform.side) == (x1, y1, side)
    assert transform == crop_region(box, 2.0, side, (WIDTH, HEIGHT))  # the same square as ours


def test_a_crop_reaching_the_right_or_bottom_edge_loses_the_last_column_or_row():
    frame = _frame()
    # side 40 at (80, 25): it ends exactly at the right edge; frame column 119 is patch column 39
    patch, _ = crop_around_ostrack(frame, EDGE_BOXES["right edge exactly"], 2.0, 40)
    assert not patch[:, 39].any() and patch[:, :39].all()
    # side 32 at (101, 73): frame column 119 = patch column 18, frame row 89 = patch row 16
    patch, _ = crop_around_ostrack(frame, EDGE_BOXES["bottom-right corner"], 2.0, 32)
    assert not patch[:, 18:].any() and not patch[16:].any() and patch[:16, :18].all()
    np.testing.assert_array_equal(patch[:16, :18], frame[73:89, 101:119])


@pytest.mark.parametrize("edge", ["left", "bottom-right corner", "inside"])
def test_resize_is_cv2_after_padding(edge):
    frame, box = _frame(1), EDGE_BOXES[edge]
    padded, _ = authors_padded_crop(frame, box, 4.0)
    for size in (32, 200):  # down and up
        patch, transform = crop_around_ostrack(frame, box, 4.0, size)
        np.testing.assert_array_equal(patch, cv2.resize(padded, (size, size)))
        assert transform.output_size == size


def test_a_crop_wholly_outside_the_frame_is_all_padding_and_bad_input_is_refused():
    frame = _frame()
    for box in ((-200.0, 10.0, 10.0, 10.0), (500.0, 500.0, 10.0, 10.0), (-200.0, -200.0, 10.0, 10.0)):
        patch, _ = crop_around_ostrack(frame, box, 2.0, 16)
        assert patch.shape == (16, 16, 3) and not patch.any()
    with pytest.raises(LongtrackError, match="HxWx3"):
        crop_around_ostrack(frame[..., 0], (10, 10, 5, 5), 2.0, 16)
    with pytest.raises(LongtrackError, match="finite, positive"):
        crop_around_ostrack(frame, (10, 10, 0, 5), 2.0, 16)
