"""Result formats: write -> read round trips for every benchmark, atomic writes, published
results without our extra files, and damaged files named in the error."""
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from longtrack.datasets import Sequence
from longtrack.errors import LongtrackError
from longtrack.evaluation import result_formats as rf
from longtrack.evaluation.scoring import score_results

N = 12


def _sequence(name="seq-1", **kw):
    rng = np.random.default_rng(0)
    boxes = np.column_stack([rng.uniform(0, 200, (N, 2)), rng.uniform(10, 60, (N, 2))])
    absent = np.zeros(N, bool)
    absent[5:7] = True
    return Sequence(name=name, frames=[], boxes=boxes, absent=absent, image_size=(320, 240), **kw)


def _outputs(seq):
    rng = np.random.default_rng(1)
    boxes = seq.boxes + rng.normal(0, 3, seq.boxes.shape)
    boxes[0] = seq.boxes[0]
    scores = rng.uniform(0, 1, N)
    present = ~seq.absent
    present[0] = True
    times = rng.uniform(0.01, 0.05, N)
    return boxes, scores, present, times


@pytest.mark.parametrize("dataset", ["lasot", "otb", "tlp", "uav", "trackingnet", "synthetic"])
def test_ope_text_round_trip(tmp_path, dataset):
    seq = _sequence()
    boxes, scores, present, times = _outputs(seq)
    written = rf.write_sequence_results(dataset, tmp_path / "T", seq, boxes, scores, present, times)
    assert written == rf.expected_result_files(dataset, tmp_path / "T", seq)
    assert all(p.is_file() for p in written) and (tmp_path / "T" / "seq-1.txt") in written
    assert not list((tmp_path / "T").glob(".*tmp"))  # atomic writes leave no temporary file
    back = rf.read_sequence_results(dataset, tmp_path / "T", seq)
    np.testing.assert_array_equal(back.boxes, boxes)  # exact: shortest round-trip text
    np.testing.assert_array_equal(back.scores, scores)
    np.testing.assert_array_equal(back.present, present)
    np.testing.assert_array_equal(back.times, times)


def test_published_results_without_extras_score(tmp_path):
    seq = _sequence()
    (tmp_path / "Pub").mkdir()
    (tmp_path / "Pub" / "seq-1.txt").write_text("\n".join("\t".join(str(v) for v in b) for b in seq.boxes))
    back = rf.read_sequence_results("lasot", tmp_path / "Pub", seq)
    assert back.scores is None and back.present is None and back.times is None
    r = score_results("lasot", [seq], tmp_path / "Pub")
    assert r["precision"] == pytest.approx(10 / 12)  # the two absent frames are failures
    assert "presence" not in r and "longterm" not in r and "redetection" in r


def test_own_runs_get_presence_and_longterm_scores(tmp_path):
    seq = _sequence()
    rf.write_sequence_results("synthetic", tmp_path / "T", seq, seq.boxes, np.where(seq.absent, 0.1, 0.9),
                              ~seq.absent, np.full(N, 0.02))
    r = score_results("synthetic", [seq], tmp_path / "T")
    assert r["presence"]["tpr"] == 1.0 and r["presence"]["tnr"] == 1.0
    assert r["longterm"]["precision"] == 1.0
    assert r["redetection"]["redetected_fraction"] == 1.0


def test_got10k_round_trip_and_repetitions(tmp_path):
    seq = _sequence("GOT-10k_Val_000001")
    boxes, scores, present, times = _outputs(seq)
    rf.write_sequence_results("got10k", tmp_path / "T", seq, boxes, scores, present, times)
    folder = tmp_path / "T" / seq.name
    assert sorted(p.name for p in folder.iterdir()) == [
        "GOT-10k_Val_000001_001.txt", "GOT-10k_Val_000001_001_confidence.value",
        "GOT-10k_Val_000001_001_present.value", "GOT-10k_Val_000001_time.txt"]
    assert (folder / f"{seq.name}_001.txt").read_text().splitlines()[0].count(".") == 4  # %.3f
    back = rf.read_sequence_results("got10k", tmp_path / "T", seq)
    np.testing.assert_allclose(back.boxes, boxes, atol=5e-4)
    np.testing.assert_allclose(back.times, times, atol=5e-9)
    (folder / f"{seq.name}_002.txt").write_text((folder / f"{seq.name}_001.txt").read_text())
    assert len(rf.read_sequence_results("got10k", tmp_path / "T", seq).runs) == 2


def test_vot_round_trip(tmp_path):
    seq = _sequence("lt01_car")
    boxes, scores, present, times = _outputs(seq)
    rf.write_sequence_results("votlt2020", tmp_path / "T", seq, boxes, scores, present, times)
    folder = tmp_path / "T" / "longterm" / "lt01_car"
    lines = (folder / "lt01_car_001.txt").read_text().splitlines()
    assert lines[0] == "1" and lines[5] == "0" and lines[6] == "0"  # init marker, absences
    assert (folder / "lt01_car_001_confidence.value").read_text().splitlines()[0] == ""
    back = rf.read_sequence_results("votlt2020", tmp_path / "T", seq)
    assert back.present.tolist() == [False] + present[1:].tolist()
    np.testing.assert_array_equal(back.boxes[back.present], boxes[back.present])
    assert back.scores[0] == 0.0  # the toolkit's default for the missing init confidence
    np.testing.assert_array_equal(back.scores[1:], scores[1:])


def test_oxuva_round_trip(tmp_path):
    labelled = np.zeros(N, bool)
    labelled[::3] = True
    seq = _sequence("vid0001_obj0000", labelled=labelled,
                    meta={"video": "vid0001", "object": "obj0000", "init_frame": 30})
    boxes, scores, present, times = _outputs(seq)
    rf.write_sequence_results("oxuva", tmp_path / "T", seq, boxes, scores, present, times)
    rows = (tmp_path / "T" / "vid0001_obj0000.csv").read_text().splitlines()
    assert len(rows) == N - 1 and rows[0].startswith("vid0001,obj0000,31,true,")
    back = rf.read_sequence_results("oxuva", tmp_path / "T", seq)
    assert back.present[1:].tolist() == present[1:].tolist()
    # Boxes of rows reported absent are not read (as the official loader).
    shown = back.present
    np.testing.assert_allclose(back.boxes[shown], boxes[shown], atol=1e-9)
    assert np.isnan(back.boxes[~shown]).all()
    # Missing rows take the previous prediction (the official rule).
    (tmp_path / "T" / "vid0001_obj0000.csv").write_text("\n".join(rows[:2] + rows[5:]) + "\n")
    sparse = rf.read_sequence_results("oxuva", tmp_path / "T", seq)
    np.testing.assert_array_equal(sparse.relative_boxes[3], sparse.relative_boxes[2])


def test_damaged_and_missing_files_are_named(tmp_path):
    seq = _sequence()
    with pytest.raises(LongtrackError, match="seq-1.txt: result file missing"):
        rf.read_sequence_results("lasot", tmp_path, seq)
    (tmp_path / "seq-1.txt").write_text("1,2,3,4\n1,2,x,4\n")
    with pytest.raises(LongtrackError, match=r"seq-1.txt:2"):
        rf.read_sequence_results("lasot", tmp_path, seq)
    (tmp_path / "seq-1.txt").write_text("1,2,3,4\n" * (N - 1))
    with pytest.raises(LongtrackError, match="11 boxes but the sequence has 12"):
        rf.read_sequence_results("lasot", tmp_path, seq)
    (tmp_path / "seq-1.txt").write_text("1,2,3,4\n" * N)
    (tmp_path / "seq-1_confidence.value").write_text("0.5\n" * (N - 2) + "oops\n0.5\n")
    with pytest.raises(LongtrackError, match=r"seq-1_confidence.value:11: not a number"):
        rf.read_sequence_results("lasot", tmp_path, seq)
    with pytest.raises(LongtrackError, match="3 boxes for 12 frames"):
        rf.write_sequence_results("lasot", tmp_path, seq, np.zeros((3, 4)), np.zeros(N), np.ones(N), np.zeros(N))
    with pytest.raises(LongtrackError, match="no result format"):
        rf.expected_result_files("nonsense", tmp_path, seq)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_damaged_result_files_fail_loudly_or_read_exactly(tmp_path, data):
    """Random damage to a result file: either an error naming the file, or exactly its numbers."""
    seq = _sequence()
    lines = [",".join(f"{v:.2f}" for v in row) for row in seq.boxes]
    action = data.draw(st.sampled_from(["drop", "letters", "extra", "blank", "truncate", "none"]))
    i = data.draw(st.integers(0, N - 1))
    if action == "drop":
        del lines[i]
    elif action == "letters":
        lines[i] = lines[i].replace(".", "x", 1)
    elif action == "extra":
        lines[i] += ",7"
    elif action == "blank":
        lines.insert(i, "")
    elif action == "truncate":
        lines[i] = lines[i][: data.draw(st.integers(0, len(lines[i]) - 1))]
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    (folder / "seq-1.txt").write_text("\n".join(lines) + "\n")
    try:
        back = rf.read_sequence_results("lasot", folder, seq)
    except LongtrackError as exc:
        assert "seq-1.txt" in str(exc)
        return
    expected = np.array([[float(v) for v in line.split(",")] for line in lines])
    np.testing.assert_array_equal(back.boxes, expected)
