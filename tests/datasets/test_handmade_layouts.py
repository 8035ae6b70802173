"""Readers on small hand-made folders for the layouts that have no shared fixture (TLP,
TrackingNet, UAV, the LaSOT dataset layout, the synthetic world) and for the quirks the
fixtures do not show (OTB frame ranges and two-target sequences, GOT-10k test split, OxUvA
images)."""
import json

import numpy as np
import pytest
from dataset_builders import format_rows, random_boxes, write_images, write_lasot_sequence

from longtrack.datasets import load_dataset
from longtrack.errors import LongtrackError


def test_lasot_dataset_layout_absent_is_occlusion_or_out_of_view(tmp_path):
    rng = np.random.default_rng(0)
    boxes = random_boxes(rng, 6)
    write_lasot_sequence(tmp_path, "cat-2", boxes, [0, 1, 1, 0, 0, 0], [0, 0, 1, 1, 0, 0], frames=True,
                         nlp="white cat on the sofa")
    write_lasot_sequence(tmp_path, "cat-10", random_boxes(rng, 3), [0] * 3, [0] * 3)
    seqs = load_dataset("lasot", tmp_path)
    assert [s.name for s in seqs] == ["cat-2", "cat-10"]  # natural order without a list file
    cat = seqs[0]
    np.testing.assert_array_equal(cat.boxes, boxes)
    np.testing.assert_array_equal(cat.absent, [0, 1, 1, 1, 0, 0])
    np.testing.assert_array_equal(cat.attributes["out_of_view"], [0, 0, 1, 1, 0, 0])
    assert cat.meta["nlp"] == "white cat on the sofa" and cat.meta["class"] == "cat"
    assert [f.name for f in cat.frames] == [f"{i:08d}.jpg" for i in range(1, 7)]
    assert cat.image_size == (16, 12)
    assert seqs[1].frames == []


def test_lasot_split_lists(tmp_path):
    rng = np.random.default_rng(1)
    for name in ["dog-1", "dog-2", "dog-3"]:
        write_lasot_sequence(tmp_path, name, random_boxes(rng, 2), [0, 0], [0, 0])
    (tmp_path / "testing_set.txt").write_text("dog-3\ndog-1\n")
    assert [s.name for s in load_dataset("lasot", tmp_path)] == ["dog-3", "dog-1"]  # default: test
    assert [s.name for s in load_dataset("lasot", tmp_path, split="train")] == ["dog-2"]
    assert [s.name for s in load_dataset("lasot_ext", tmp_path, split="all")] == ["dog-1", "dog-2", "dog-3"]
    (tmp_path / "testing_set.txt").write_text("dog-3\ndog-9\n")
    with pytest.raises(LongtrackError, match="testing_set.txt.*dog-9"):
        load_dataset("lasot", tmp_path)


def test_lasot_images_must_match_annotations(tmp_path):
    folder = write_lasot_sequence(tmp_path, "cup-1", random_boxes(np.random.default_rng(2), 4), [0] * 4, [0] * 4,
                                  frames=True)
    (folder / "img" / "00000004.jpg").unlink()
    with pytest.raises(LongtrackError, match="3 images but 4"):
        load_dataset("lasot", tmp_path)


def test_synthetic_reader_exposes_objects_and_events(tmp_path):
    rng = np.random.default_rng(3)
    boxes = random_boxes(rng, 5)
    folder = write_lasot_sequence(tmp_path, "star-1", boxes, [0, 0, 1, 0, 0], [0, 0, 0, 0, 1])
    distractor = random_boxes(rng, 5)
    meta = {"generator_version": 1, "preset": "mini", "split": "test", "index": 0, "seed": 7, "size": [320, 240],
            "events": [{"type": "full_occlusion", "start": 2, "end": 2}],
            "objects": [{"identity": 0, "class_name": "star", "is_target": True, "boxes": boxes.tolist(),
                         "visible": [1, 1, 0, 1, 0]},
                        {"identity": 1, "class_name": "star", "is_target": False, "boxes": distractor.tolist(),
                         "visible": [1] * 5}]}
    (folder / "meta.json").write_text(json.dumps(meta))
    (tmp_path / "list.txt").write_text("star-1\n")
    (seq,) = load_dataset("synthetic", tmp_path)
    assert seq.image_size == (320, 240) and seq.meta["split"] == "test"
    assert seq.meta["events"][0]["type"] == "full_occlusion"
    target, other = seq.meta["objects"]
    np.testing.assert_array_equal(target["boxes"], boxes)
    np.testing.assert_array_equal(other["boxes"], distractor)
    np.testing.assert_array_equal(target["visible"], [1, 1, 0, 1, 0])
    np.testing.assert_array_equal(seq.absent, [0, 0, 1, 0, 1])
    assert load_dataset("synthetic", tmp_path, split="test")[0].name == "star-1"
    with pytest.raises(LongtrackError, match="no synthetic"):
        load_dataset("synthetic", tmp_path, split="train")
    meta["objects"][1]["boxes"] = distractor[:4].tolist()
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(LongtrackError, match=r"meta.json: objects\[1\].boxes has shape \(4, 4\)"):
        load_dataset("synthetic", tmp_path)


def test_tlp_frame_and_islost_columns(tmp_path):
    folder = tmp_path / "Alladin"
    rows = [[1, 10, 20, 30, 40, 0], [2, 11, 21, 30, 40, 1], [3, 12, 22, 31, 41, 0]]
    folder.mkdir()
    (folder / "groundtruth_rect.txt").write_text(format_rows(rows))
    write_images(folder / "img", [f"{i:05d}.jpg" for i in range(1, 4)])
    (seq,) = load_dataset("tlp", tmp_path)
    np.testing.assert_array_equal(seq.boxes, np.array(rows)[:, 1:5])
    np.testing.assert_array_equal(seq.absent, [0, 1, 0])
    assert len(seq.frames) == 3
    (folder / "groundtruth_rect.txt").write_text(format_rows([rows[0], rows[2], rows[1]]))
    with pytest.raises(LongtrackError, match=r"groundtruth_rect.txt:2: frame number 3, expected 2"):
        load_dataset("tlp", tmp_path)


def test_trackingnet_test_chunk_first_frame_only_and_numeric_frame_order(tmp_path):
    chunk = tmp_path / "TEST"
    (chunk / "anno").mkdir(parents=True)
    (chunk / "anno" / "abc_1.txt").write_text("10.5,20,30,40\n")
    write_images(chunk / "frames" / "abc_1", [f"{i}.jpg" for i in range(12)])
    (seq,) = load_dataset("trackingnet", tmp_path)
    assert len(seq) == 12 and seq.init_box == (10.5, 20, 30, 40)
    assert [f.name for f in seq.frames[:3]] + [seq.frames[-1].name] == ["0.jpg", "1.jpg", "2.jpg", "11.jpg"]
    assert seq.labelled.tolist() == [True] + [False] * 11 and np.isnan(seq.boxes[1:]).all()

    train = tmp_path / "TRAIN_3"
    (train / "anno").mkdir(parents=True)
    boxes = random_boxes(np.random.default_rng(4), 3)
    (train / "anno" / "xyz_2.txt").write_text(format_rows(boxes))
    write_images(train / "frames" / "xyz_2", ["0.jpg", "1.jpg", "2.jpg"])
    (seq,) = load_dataset("trackingnet", tmp_path, split="train")
    np.testing.assert_array_equal(seq.boxes, boxes)
    assert seq.labelled.all() and seq.meta["chunk"] == "TRAIN_3"
    (train / "frames" / "xyz_2" / "1.jpg").unlink()
    with pytest.raises(LongtrackError, match="1.jpg is missing"):
        load_dataset("trackingnet", tmp_path, split="TRAIN_3")


def test_uav123_subsequence_range_and_nan_rows(tmp_path):
    anno = tmp_path / "anno" / "UAV123"
    anno.mkdir(parents=True)
    # car16_2 covers frames 415..1993 of data_seq/UAV123/car16 (the benchmark's configuration).
    n = 1993 - 415 + 1
    rows = [[5, 6, 7, 8]] * n
    text = format_rows(rows).splitlines()
    text[3] = "NaN,NaN,NaN,NaN"
    (anno / "car16_2.txt").write_text("\n".join(text) + "\n")
    folder = tmp_path / "data_seq" / "UAV123" / "car16"
    folder.mkdir(parents=True)
    image = write_images(folder, ["000001.jpg"])[0].read_bytes()
    for i in range(2, 1994):  # identical tiny files: only names and count matter here
        (folder / f"{i:06d}.jpg").write_bytes(image)
    (seq,) = load_dataset("uav", tmp_path)
    assert seq.name == "car16_2" and len(seq) == n
    assert seq.frames[0].name == "000415.jpg" and seq.frames[-1].name == "001993.jpg"
    assert seq.absent.tolist().count(True) == 1 and seq.absent[3] and np.isnan(seq.boxes[3]).all()
    text[5] = "NaN,1,2,3"
    (anno / "car16_2.txt").write_text("\n".join(text) + "\n")
    with pytest.raises(LongtrackError, match=r"car16_2.txt:6: a box is either four numbers or four NaN"):
        load_dataset("uav", tmp_path)


def test_otb_two_targets_empty_numbered_file_and_frame_range(tmp_path):
    rng = np.random.default_rng(5)
    jog = tmp_path / "Jogging"
    jog.mkdir()
    (jog / "groundtruth_rect.1.txt").write_text(format_rows(random_boxes(rng, 3)))
    (jog / "groundtruth_rect.2.txt").write_text(format_rows(random_boxes(rng, 3), sep="\t"))
    human = tmp_path / "Human4"
    human.mkdir()
    (human / "groundtruth_rect.1.txt").write_text("\n")
    (human / "groundtruth_rect.2.txt").write_text(format_rows(random_boxes(rng, 2)))
    football = tmp_path / "Football1"  # 74 annotated frames of a longer folder
    football.mkdir()
    (football / "groundtruth_rect.txt").write_text(format_rows(random_boxes(rng, 74), sep=" ", newline="\r\n"))
    write_images(football / "img", [f"{i:04d}.jpg" for i in range(1, 80)])
    seqs = {s.name: s for s in load_dataset("otb", tmp_path)}
    assert set(seqs) == {"Football1", "Human4-2", "Jogging-1", "Jogging-2"}
    assert len(seqs["Football1"].frames) == 74 and seqs["Football1"].frames[-1].name == "0074.jpg"


def test_got10k_test_split_first_box_only(tmp_path):
    folder = tmp_path / "test" / "GOT-10k_Test_000001"
    folder.mkdir(parents=True)
    (tmp_path / "test" / "list.txt").write_text("GOT-10k_Test_000001\n")
    (folder / "groundtruth.txt").write_text("1.5,2.5,30,40\n")
    write_images(folder, [f"{i:08d}.jpg" for i in range(1, 6)])
    (seq,) = load_dataset("got10k", tmp_path, split="test")
    assert len(seq) == 5 and seq.labelled.tolist() == [True, False, False, False, False]
    assert seq.init_box == (1.5, 2.5, 30, 40) and seq.image_size == (16, 12)


def test_oxuva_with_images_converts_to_pixels(tmp_path):
    (tmp_path / "annotations").mkdir()
    (tmp_path / "tasks").mkdir()
    (tmp_path / "annotations" / "dev.csv").write_text(
        "vid0001,obj0000,3,dog,false,true,0,present,0.25,0.5,0.5,1.0\n"
        "vid0001,obj0000,3,dog,false,true,30,absent,0.0,0.0,0.0,0.0\n"
        "vid0001,obj0000,3,dog,false,true,60,present,0.0,0.125,0.25,0.5\n")
    (tmp_path / "tasks" / "dev.csv").write_text("vid0001,obj0000,0,60,0.25,0.5,0.5,1.0\n")
    write_images(tmp_path / "images" / "dev" / "vid0001", [f"{t:06d}.jpeg" for t in range(61)], size=(16, 12))
    (seq,) = load_dataset("oxuva", tmp_path)
    assert seq.name == "vid0001_obj0000" and len(seq) == 61 and seq.image_size == (16, 12)
    assert seq.meta["box_units"] == "pixels"
    np.testing.assert_allclose(seq.boxes[0], [4, 6, 4, 6])  # xmin*W, ymin*H, (xmax-xmin)*W, (ymax-ymin)*H
    np.testing.assert_allclose(seq.boxes[60], [0, 3, 2, 3])
    assert np.flatnonzero(seq.labelled).tolist() == [0, 30, 60] and np.flatnonzero(seq.absent).tolist() == [30]
    assert seq.frames[60].name == "000060.jpeg"
    (tmp_path / "tasks" / "dev.csv").write_text("vid0001,obj0000,0,30,0.25,0.5,0.5,1.0\n")
    with pytest.raises(LongtrackError, match=r"tasks/dev.csv:1: task vid0001_obj0000 ends at frame 30"):
        load_dataset("oxuva", tmp_path)


def test_oxuva_tasks_only_labels_the_first_frame(tmp_path):
    (tmp_path / "tasks.csv").write_text("vid0007,obj0001,90,150,0.1,0.3,0.2,0.6\n")
    (seq,) = load_dataset("oxuva", tmp_path)
    assert len(seq) == 61 and seq.labelled.sum() == 1 and seq.meta["init_frame"] == 90
    np.testing.assert_allclose(seq.init_box, [0.1, 0.2, 0.2, 0.4])


def test_synthetic_world_written_by_write_lasot_reads_back(tmp_path):
    from longtrack.synth import make_sequence, write_lasot

    synth = make_sequence("mini", "test", 0, size=(96, 72), num_frames=80)
    write_lasot(synth, tmp_path)
    (seq,) = load_dataset("synthetic", tmp_path)
    assert (seq.name, len(seq), seq.image_size, len(seq.frames)) == (synth.name, len(synth), (96, 72), len(synth))
    np.testing.assert_allclose(seq.boxes, synth.boxes, atol=0.005)  # written with 2 decimals
    np.testing.assert_array_equal(seq.absent, synth.absent)
    np.testing.assert_array_equal(seq.attributes["full_occlusion"], synth.full_occlusion)
    assert len(seq.meta["objects"]) == len(synth.objects) and seq.meta["events"] == synth.events
    for read, made in zip(seq.meta["objects"], synth.objects):
        np.testing.assert_array_equal(read["boxes"], made.boxes)
        np.testing.assert_array_equal(read["visible"], made.visible)
    assert seq.frame(3).shape == (72, 96, 3)
    (same,) = load_dataset("lasot", tmp_path)  # the LaSOT reader reads the same folder
    np.testing.assert_array_equal(same.boxes, seq.boxes)
