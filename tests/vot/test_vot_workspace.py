"""``longtrack vot-workspace`` / ``write_workspace``: the VOT layout, read back by longtrack's own
VOT reader, the stack, config and trackers.ini as the toolkit parses them, and bad input."""
from __future__ import annotations

import configparser
import os
import sys

import numpy as np
import pytest
import yaml

from longtrack.cli import main as cli_main
from longtrack.datasets import load_dataset
from longtrack.datasets.sequence import Sequence
from longtrack.errors import LongtrackError
from longtrack.synth import iter_sequences, write_lasot
from longtrack.vot.trax_server import ENV_DEVICE, ENV_LOG, ENV_TRACKER, ENV_WEIGHTS
from longtrack.vot.workspace import (STACK_FILE, WorkspaceTracker, groundtruth_text, vot_identifier,
                                     write_workspace)


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    names = []
    for seq in iter_sequences("mini", "test", 2, size=(96, 72), num_frames=60):
        write_lasot(seq, root)
        names.append(seq.name)
    (root / "list.txt").write_text("".join(n + "\n" for n in names))
    return root


def test_workspace_reads_back_as_the_same_sequences(synth, tmp_path):
    ws = tmp_path / "ws"
    assert cli_main(["vot-workspace", "--dataset", "synthetic", "--root", str(synth), "--out", str(ws)]) == 0
    source = load_dataset("synthetic", synth)
    back = load_dataset("votlt2020", ws)
    assert [s.name for s in back] == [s.name for s in source]
    assert (ws / "sequences" / "list.txt").read_text().split() == [s.name for s in source]
    for a, b in zip(source, back):
        assert len(b) == len(a) and b.image_size == a.image_size == (96, 72)
        assert a.absent.any()
        np.testing.assert_array_equal(b.absent, a.absent)
        np.testing.assert_array_equal(b.boxes[~b.absent], a.boxes[~a.absent])
        gt = (ws / "sequences" / a.name / "groundtruth.txt").read_text().splitlines()
        assert [line == "0" for line in gt] == a.absent.tolist()
        # Hard links: the same file, not a copy.
        assert os.path.samefile(b.frames[5], a.frames[5]) and b.frames[5].name == "00000006.jpg"
        np.testing.assert_array_equal(b.attributes["out_of_view"], a.attributes["out_of_view"])
        props = dict(line.split("=", 1) for line in (ws / "sequences" / a.name / "sequence").read_text().split())
        assert props == {"name": a.name, "fps": "30", "format": "default", "channels.color": "color/%08d.jpg",
                         "width": "96", "height": "72", "length": str(len(a))}


def test_stack_config_and_trackers_ini_as_the_toolkit_reads_them(synth, tmp_path):
    ws = tmp_path / "ws"
    weights = tmp_path / "w.pt"
    from longtrack.registry import get_tracker_spec

    # Real weights: the workspace builds every tracker before writing anything.
    weights.write_bytes(open(get_tracker_spec("procontext").weights_path(), "rb").read())
    write_workspace(load_dataset("synthetic", synth), ws,
                    [WorkspaceTracker("classic-lt"), WorkspaceTracker.parse(f"procontext={weights}", "cuda:0")],
                    title='a "quoted" title', timeout=77)
    config = yaml.safe_load((ws / "config.yaml").read_text())
    assert config == {"registry": ["."], "stack": STACK_FILE, "sequences": "sequences"}
    stack = yaml.safe_load((ws / STACK_FILE).read_text())
    assert "dataset" not in stack  # never downloads
    assert stack["title"] == 'a "quoted" title'
    assert list(stack["experiments"]) == ["longterm"]  # redetection fails offline in 0.9.0
    assert stack["experiments"]["longterm"]["type"] == "unsupervised"
    ini = configparser.ConfigParser()  # with %-interpolation, as vot-toolkit reads it
    ini.read(ws / "trackers.ini")
    assert ini.sections() == ["classic-lt", "procontext"]
    entry = ini["procontext"]
    assert entry["protocol"] == "traxpython" and entry["command"] == "longtrack.vot.trax_server"
    assert entry["python"] == sys.executable and entry["timeout"] == "77"
    assert entry[f"env_{ENV_TRACKER}"] == "procontext" and entry[f"env_{ENV_DEVICE}"] == "cuda:0"
    assert entry[f"env_{ENV_WEIGHTS}"] == str(weights.resolve())
    assert entry[f"env_{ENV_LOG}"] == str(ws.resolve() / "logs" / "longtrack-server-procontext.log")
    assert f"env_{ENV_WEIGHTS}".lower() not in ini["classic-lt"]
    import longtrack

    assert os.path.samefile(entry["paths"], os.path.dirname(os.path.dirname(longtrack.__file__)))


def test_existing_workspace_needs_force_and_keeps_results(synth, tmp_path):
    ws = tmp_path / "ws"
    args = ["vot-workspace", "--dataset", "synthetic", "--root", str(synth), "--out", str(ws), "--images", "copy"]
    assert cli_main(args) == 0
    marker = ws / "results" / "classic-lt" / "kept.txt"
    marker.parent.mkdir(parents=True)
    marker.write_text("x")
    assert cli_main(args) == 1  # refuses to overwrite
    assert cli_main(args + ["--force"]) == 0
    assert marker.read_text() == "x"
    frame = load_dataset("votlt2020", ws)[0].frames[0]
    assert not os.path.samefile(frame, load_dataset("synthetic", synth)[0].frames[0])  # copied


def _sequence(tmp_path, n=4, **kwargs) -> Sequence:
    frames = []
    import cv2

    for i in range(n):
        path = tmp_path / f"f{i}.png"
        cv2.imwrite(str(path), np.full((20, 30, 3), 40 * i, np.uint8))
        frames.append(path)
    args = {"name": "s", "frames": frames, "boxes": np.tile([1.0, 2.0, 5.5, 6.0], (n, 1)),
            "absent": np.zeros(n, bool)}
    args.update(kwargs)
    return Sequence(**args)


def test_polygons_png_frames_and_decoded_frames(tmp_path):
    poly = np.tile([1, 2, 7, 2.5, 6.5, 8, 0.5, 7.5], (4, 1)).astype(float)
    seq = _sequence(tmp_path, polygons=poly)
    assert groundtruth_text(seq).splitlines()[0] == "1,2,7,2.5,6.5,8,0.5,7.5"
    decoded = _sequence(tmp_path, name="d", loader=lambda p: np.full((20, 30, 3), 7, np.uint8))
    ws = write_workspace([seq, decoded], tmp_path / "ws", [WorkspaceTracker("classic-lt")])
    back = {s.name: s for s in load_dataset("votlt2020", ws)}
    assert back["s"].frames[0].name == "00000001.png" and back["s"].polygons is not None
    assert back["s"].frame(3)[0, 0, 0] == 120  # linked PNG, lossless
    assert back["d"].frame(2)[0, 0].tolist() == [7, 7, 7]  # decoded by the sequence's loader, written as PNG
    assert back["s"].image_size == (30, 20)


@pytest.mark.parametrize("change, message", [
    ({"absent": np.array([True, False, False, False])}, "absent in the first frame"),
    ({"labelled": np.array([True, False, True, False])}, "only 2 of 4 frames are annotated"),
    ({"boxes": np.array([[1, 2, 3, 4], [np.nan] * 4, [1, 2, 3, 4], [1, 2, 3, 4]])}, "frame 2 is marked visible"),
])
def test_sequences_vot_cannot_represent_are_refused(tmp_path, change, message):
    with pytest.raises(LongtrackError, match=message):
        write_workspace([_sequence(tmp_path, **change)], tmp_path / "ws", [WorkspaceTracker("classic-lt")])
    assert not (tmp_path / "ws" / "config.yaml").exists()


def test_bad_names_and_trackers_are_refused(tmp_path):
    seq = _sequence(tmp_path)
    with pytest.raises(LongtrackError, match="unique"):
        write_workspace([seq, seq], tmp_path / "ws", [WorkspaceTracker("classic-lt")])
    with pytest.raises(LongtrackError, match="unknown tracker"):
        write_workspace([seq], tmp_path / "ws", [WorkspaceTracker("nope")])
    with pytest.raises(LongtrackError, match="NAME or NAME=WEIGHTS"):
        WorkspaceTracker.parse("classic-lt=")
    assert vot_identifier("tanet:csrt") == "tanet_csrt"
    assert cli_main(["vot-workspace", "--dataset", "synthetic", "--root", str(tmp_path / "missing"),
                     "--out", str(tmp_path / "ws")]) == 1


def _refused(tmp_path, sequences, trackers, message, out=None):
    out = out or tmp_path / "ws"
    with pytest.raises(LongtrackError, match=message):
        write_workspace(sequences, out, trackers)
    assert not out.exists()  # checked before anything is written


def test_bad_weights_are_refused_before_anything_is_written(tmp_path):
    seq = _sequence(tmp_path)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"these are not weights")
    _refused(tmp_path, [seq], [WorkspaceTracker.parse(f"procontext={garbage}")], "procontext.*garbage.pt")
    _refused(tmp_path, [seq], [WorkspaceTracker.parse(f"kcf={garbage}")], "kcf uses no weights")


def test_corrupt_frames_and_degenerate_first_regions_are_refused(tmp_path):
    corrupt = _sequence(tmp_path)
    corrupt.frames[2].write_bytes(corrupt.frames[2].read_bytes()[:40])  # a cut PNG
    _refused(tmp_path, [corrupt], [WorkspaceTracker("kcf")], "s: frame 3 .*corrupt")
    empty_box = _sequence(tmp_path, boxes=np.tile([0.0, 0.0, 0.0, 0.0], (4, 1)))
    _refused(tmp_path, [empty_box], [WorkspaceTracker("kcf")], "first frame's region.*positive width")
    sliver = _sequence(tmp_path, boxes=np.tile([29.5, 2.0, 5.0, 6.0], (4, 1)))  # 0.5 px inside the frame
    _refused(tmp_path, [sliver], [WorkspaceTracker("kcf")], "at least 2x2 pixels")


def test_control_characters_cannot_inject_trackers_ini_keys(tmp_path):
    seq = _sequence(tmp_path)
    weights = tmp_path / "w\nenv_LONGTRACK_TRACKER = csrt.pt"
    weights.write_bytes(b"x")
    _refused(tmp_path, [seq], [WorkspaceTracker.parse(f"procontext={weights}")], "control character")
    _refused(tmp_path, [seq], [WorkspaceTracker("kcf", device="cpu\nprotocol = x")], "control character")
    _refused(tmp_path, [seq], [WorkspaceTracker("kcf")], "control character", out=tmp_path / "a\nb")
