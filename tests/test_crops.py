import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from longtrack import LongtrackError
from longtrack.crops import crop_around, crop_region


def _frame(width=200, height=120, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)


@settings(max_examples=200, deadline=None)
@given(x=st.floats(-50, 250), y=st.floats(-50, 150), w=st.floats(1, 120), h=st.floats(1, 120),
       factor=st.floats(0.5, 6.0), size=st.integers(8, 400))
def test_box_round_trip(x, y, w, h, factor, size):
    transform = crop_region((x, y, w, h), factor, size, (200, 120))
    box = np.array([[x, y, w, h], [x + 3.5, y - 2.0, w / 2, h * 1.5]])
    back = transform.box_to_frame(transform.box_to_crop(box))
    np.testing.assert_allclose(back, box, rtol=1e-9, atol=1e-9)


def test_crop_side_and_centre_follow_ostrack():
    transform = crop_region((10, 20, 30, 40), 2.0, 128, (200, 120))
    side = math.ceil(math.sqrt(30 * 40) * 2.0)
    assert transform.side == side
    assert transform.x0 == round(10 + 15 - side / 2) and transform.y0 == round(20 + 20 - side / 2)
    # the box lands in the middle of the crop, scaled to the output
    cx, cy, cw, ch = transform.box_to_crop([10, 20, 30, 40])
    assert abs(cx + cw / 2 - 64) <= 128 / side and abs(cy + ch / 2 - 64) <= 128 / side
    assert cw == pytest.approx(30 * 128 / side)


def test_unscaled_crop_inside_frame_copies_pixels_exactly():
    frame = _frame()
    box = (60, 30, 20, 20)  # side = 40, no padding, output 40 -> scale 1
    patch, transform = crop_around(frame, box, 2.0, 40)
    x0, y0 = int(transform.x0), int(transform.y0)
    np.testing.assert_array_equal(patch, frame[y0:y0 + 40, x0:x0 + 40])
    assert not transform.padding_mask().any()


def test_padding_uses_the_value_and_the_mask_marks_it():
    frame = _frame()
    box = (0, 0, 10, 10)  # crop side 40 centred on (5, 5): its top-left quarter is outside
    patch, transform = crop_around(frame, box, 4.0, 40, pad_value=7)
    mask = transform.padding_mask()
    assert transform.x0 == -15 and transform.y0 == -15
    assert mask[:15, :].all() and mask[:, :15].all() and not mask[15:, 15:].any()
    assert (patch[:14, :] == 7).all() and (patch[:, :14] == 7).all()
    np.testing.assert_array_equal(patch[15:, 15:], frame[:25, :25])
    mean_patch, _ = crop_around(frame, box, 4.0, 40, pad_value="mean")
    expected = np.rint(frame.reshape(-1, 3).mean(axis=0))
    np.testing.assert_allclose(mean_patch[0, 0], expected, atol=1)


def test_a_drawn_rectangle_lands_where_the_transform_says():
    frame = np.zeros((300, 400, 3), dtype=np.uint8)
    box = np.array([150.0, 100.0, 60.0, 40.0])
    frame[100:140, 150:210] = 255
    patch, transform = crop_around(frame, box, 4.0, 128, pad_value=0)
    x, y, w, h = transform.box_to_crop(box)
    bright = np.argwhere(patch[:, :, 0] > 127)
    (top, left), (bottom, right) = bright.min(axis=0), bright.max(axis=0)
    assert abs(left - x) <= 1 and abs(top - y) <= 1
    assert abs(right + 1 - (x + w)) <= 1 and abs(bottom + 1 - (y + h)) <= 1


def test_points_to_frame_matches_box_to_frame():
    transform = crop_region((40, 50, 30, 10), 5.0, 256, (200, 120))
    box = transform.box_to_frame([10, 20, 5, 5])
    np.testing.assert_allclose(transform.points_to_frame([10, 20]), box[:2])


@pytest.mark.parametrize("box", [(0, 0, 0, 10), (0, 0, 10, -1), (float("nan"), 0, 5, 5)])
def test_degenerate_boxes_are_refused(box):
    with pytest.raises(LongtrackError, match="cannot crop"):
        crop_around(_frame(), box, 2.0, 64)


def test_bad_pad_value_is_refused():
    with pytest.raises(LongtrackError, match="pad_value"):
        crop_around(_frame(), (10, 10, 20, 20), 2.0, 64, pad_value="median")
