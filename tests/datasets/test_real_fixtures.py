"""Every reader on the shared fixtures and real sequences: the counts the READMEs state, and
boxes checked against the files' first and last lines."""
import cv2
import numpy as np
import pytest

from longtrack.datasets import load_dataset


def by_name(sequences):
    return {s.name: s for s in sequences}


def test_lasot_toolkit_layout_280_test_sequences(shared_dir):
    root = shared_dir / "fixtures" / "eval" / "lasot"
    seqs = load_dataset("lasot", root)
    listed = [n.strip() for n in (root / "testing_set.txt").read_text().split("\n") if n.strip()]
    assert [s.name for s in seqs] == listed  # the list's order: every mean uses it
    assert len(seqs) == 280 and sum(len(s) for s in seqs) == 685360
    assert sum(int(s.absent.sum()) for s in seqs) == 18346
    d = by_name(seqs)
    assert d["airplane-1"].init_box == (367, 101, 41, 16) and len(d["airplane-1"]) == 2788
    np.testing.assert_array_equal(d["zebra-17"].boxes[-1], [99, 295, 375, 223])
    # The degenerate ground-truth boxes the README lists are read as the file has them.
    np.testing.assert_array_equal(d["tiger-6"].boxes[117], [613, 731, 247, -11])
    np.testing.assert_array_equal(d["lion-5"].boxes[552], [1, 1, -1, -1])
    np.testing.assert_array_equal(d["microphone-6"].boxes[1108], [1, 1, 0, 0])
    assert all(s.labelled.all() and s.frames == [] for s in seqs)
    assert d["airplane-1"].meta["class"] == "airplane"


def test_lasot_selecting_sequences_reads_only_those(shared_dir):
    seqs = load_dataset("lasot", shared_dir / "fixtures" / "eval" / "lasot", sequences="lion-5,tiger-6")
    assert [s.name for s in seqs] == ["lion-5", "tiger-6"]


GOT10K = {  # sequence: frames, (W, H), absent, cover 0, cut by image  (fixture README)
    "GOT-10k_Val_000026": (198, (960, 540), 17, 17, 92),
    "GOT-10k_Val_000046": (168, (1920, 1080), 0, 0, 0),
    "GOT-10k_Val_000049": (96, (1920, 1080), 9, 9, 0),
    "GOT-10k_Val_000050": (90, (640, 360), 0, 0, 56),
    "GOT-10k_Val_000061": (148, (1920, 1080), 3, 3, 15),
    "GOT-10k_Val_000070": (61, (1920, 1080), 6, 6, 36),
    "GOT-10k_Val_000083": (100, (640, 480), 0, 0, 0),
    "GOT-10k_Val_000097": (118, (1920, 1080), 0, 0, 28),
    "GOT-10k_Val_000145": (64, (1920, 1080), 7, 7, 0),
    "GOT-10k_Val_000171": (118, (640, 360), 0, 0, 17),
}


@pytest.mark.parametrize("sub", ["", "val"])
def test_got10k_fixture(shared_dir, sub):
    root = shared_dir / "fixtures" / "eval" / "got10k" / sub
    seqs = load_dataset("got10k", root)
    assert [s.name for s in seqs] == list(GOT10K)
    for s in seqs:
        frames, size, absent, cover0, cut = GOT10K[s.name]
        assert (len(s), s.image_size, int(s.absent.sum())) == (frames, size, absent)
        assert int((s.attributes["cover"] == 0).sum()) == cover0
        assert int(s.attributes["cut_by_image"].sum()) == cut
    d = by_name(seqs)
    np.testing.assert_array_equal(d["GOT-10k_Val_000026"].boxes[0], [675.865, 128.370, 271.419, 128.688])
    np.testing.assert_array_equal(d["GOT-10k_Val_000171"].boxes[-1], [298.982, 299.102, 111.962, 47.837])
    assert d["GOT-10k_Val_000026"].meta["object_class"] == "sedan"


OTB = {"Synth01": 163, "Synth02": 293, "Synth03": 293, "Synth04": 236, "Synth05": 188,
       "Synth06": 232, "Synth07": 133, "Synth08": 116, "Synth09": 286, "Synth10": 177}


@pytest.mark.parametrize("sub", ["", "sequences"])
def test_otb_fixture_separators_crlf_trailing_blank(shared_dir, sub):
    seqs = by_name(load_dataset("otb", shared_dir / "fixtures" / "eval" / "otb" / sub))
    assert {n: len(s) for n, s in seqs.items()} == OTB
    np.testing.assert_array_equal(seqs["Synth02"].boxes[0], [12, 130, 32, 104])  # space separated
    np.testing.assert_array_equal(seqs["Synth03"].boxes[-1], [615, 1, 24, 39])  # CRLF
    np.testing.assert_array_equal(seqs["Synth04"].boxes[-1], [456, 1, 24, 31])  # tab separated
    np.testing.assert_array_equal(seqs["Synth10"].boxes[-1], [118, 26, 79, 110])  # extra blank line
    assert not any(s.absent.any() for s in seqs.values())


def test_real_otb_sequences_with_frames(shared_dir):
    seqs = by_name(load_dataset("otb", shared_dir / "data" / "real"))
    assert set(seqs) == {"Crossing", "Skiing"}  # bag (VOT layout) is not an OTB sequence
    crossing, skiing = seqs["Crossing"], seqs["Skiing"]
    assert (len(crossing), crossing.image_size, len(crossing.frames)) == (120, (360, 240), 120)
    assert (len(skiing), skiing.image_size, len(skiing.frames)) == (81, (640, 360), 81)
    assert crossing.init_box == (205, 151, 17, 50) and skiing.init_box == (446, 181, 29, 26)
    np.testing.assert_array_equal(crossing.boxes[-1], [56, 93, 14, 36])
    np.testing.assert_array_equal(skiing.boxes[-1], [202, 271, 9, 13])
    assert crossing.frames[0].name == "0001.jpg" and crossing.frames[-1].name == "0120.jpg"
    height, width = cv2.imread(str(skiing.frames[-1])).shape[:2]
    assert (width, height) == skiing.image_size
    assert crossing.frame(119).shape == (240, 360, 3)  # decodable, ready to track


@pytest.mark.parametrize("root", ["data/real", "data/real/bag"])
def test_real_vot_bag_polygons(shared_dir, root):
    (bag,) = load_dataset("votlt2018", shared_dir / root)
    assert (bag.name, len(bag), len(bag.frames), bag.image_size) == ("bag", 196, 196, (480, 360))
    np.testing.assert_array_equal(bag.polygons[0], [334.02, 128.36, 438.19, 188.78, 396.39, 260.83, 292.23, 200.41])
    np.testing.assert_array_equal(bag.polygons[-1], [125.98, 124.13, 279.77, 90.122, 310.95, 231.12, 157.16, 265.13])
    # Axis-aligned box of the corners: min/max.
    np.testing.assert_allclose(bag.boxes[0], [292.23, 128.36, 438.19 - 292.23, 260.83 - 128.36])
    np.testing.assert_allclose(bag.boxes[-1], [125.98, 90.122, 310.95 - 125.98, 265.13 - 90.122])
    assert not bag.absent.any()
    assert bag.frames[0].name == "00000001.jpg" and bag.frames[-1].name == "00000196.jpg"
    assert bag.frame(0).shape == (360, 480, 3)


VOT_LT = {
    "vot_lt_1": {"lt01_car": (165, (480, 270), 23), "lt02_dog": (225, (640, 360), 32),
                 "lt03_boat": (107, (640, 360), 20), "lt04_bird": (189, (480, 270), 15),
                 "lt05_person": (271, (640, 480), 20), "lt06_bike": (170, (640, 360), 38)},
    "vot_lt_2": {"lt01_car": (214, (480, 360), 49), "lt02_dog": (297, (320, 240), 59),
                 "lt03_boat": (219, (480, 360), 55), "lt04_bird": (359, (480, 360), 37),
                 "lt05_person": (219, (320, 240), 36), "lt06_bike": (105, (480, 360), 14),
                 "lt07_ball": (356, (320, 240), 25)},
}


@pytest.mark.parametrize("case", sorted(VOT_LT))
def test_vot_lt_workspaces(shared_dir, case):
    """vot_lt_1 marks absence with NaN rows, vot_lt_2 with ``0`` rows."""
    seqs = load_dataset("votlt2020", shared_dir / "fixtures" / "eval" / case)
    assert {s.name: (len(s), s.image_size, int(s.absent.sum())) for s in seqs} == VOT_LT[case]
    for s in seqs:
        assert np.isnan(s.boxes[s.absent]).all() and np.isfinite(s.boxes[~s.absent]).all()
        assert s.polygons is None
    assert seqs[0].init_box == ((391.79, 90.48, 34.27, 79.43) if case == "vot_lt_1" else (141.73, 126.7, 33.06, 78.6))


@pytest.mark.parametrize("case,rows,scored,absent", [("oxuva_synth_1", 236, 216, 65), ("oxuva_synth_2", 249, 229, 65)])
def test_oxuva_fixtures(shared_dir, case, rows, scored, absent):
    seqs = load_dataset("oxuva", shared_dir / "fixtures" / "eval" / case)
    assert len(seqs) == 20
    assert sum(int(s.labelled.sum()) for s in seqs) == rows  # init rows + scored rows
    assert sum(int(s.labelled[1:].sum()) for s in seqs) == scored
    assert sum(int((s.labelled & s.absent).sum()) for s in seqs) == absent
    assert not any((s.absent & ~s.labelled).any() for s in seqs)
    for s in seqs:  # no images: boxes stay relative, and say so
        assert s.meta["box_units"] == "relative" and s.image_size is None
        assert len(s) == s.meta["last_frame"] - s.meta["init_frame"] + 1
    if case == "oxuva_synth_1":
        first = seqs[0]
        assert (first.name, first.meta["init_frame"], first.meta["last_frame"]) == ("vid0004_obj0000", 30, 360)
        np.testing.assert_array_equal(first.meta["relative_boxes"][0], [0.2722, 0.6033, 0.2646, 0.3904])
        np.testing.assert_allclose(first.boxes[0], [0.2722, 0.2646, 0.6033 - 0.2722, 0.3904 - 0.2646])
        assert first.labelled[30] and not first.labelled[1:30].any()  # labels every 30th frame
