"""Fuzzing the readers with damaged annotation files.

Valid files are generated (random numbers, separators, line endings, trailing blank lines), then
damaged at random: truncated files and lines, inserted characters, extra or missing columns,
deleted, duplicated or blank lines, doubled separators, non-numbers, empty files. For every
damaged file either the reader raises ``LongtrackError`` naming the file, or -- when the damage
happens to leave a valid file -- what it returns equals what an independent, plain-Python
reading of the file says: never a wrong number silently.
"""
from __future__ import annotations

import math
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from longtrack.datasets import load_dataset
from longtrack.datasets.annotation_text import read_flags, read_number_table
from longtrack.errors import LongtrackError

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------- an independent reading
_SEPARATOR = re.compile(r"[ \t]*[,;][ \t]*|[ \t]+")


def _lines(text: str) -> list[str] | None:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[-1].strip(" \t"):
        lines.pop()
    return lines or None


def _number(token: str, allow_nan: bool) -> float | None:
    if not token or "_" in token or not token.isascii():
        return None
    try:
        value = float(token)
    except ValueError:
        return None
    if math.isinf(value) or (math.isnan(value) and not allow_nan):
        return None
    return value


def oracle_rows(text: str, widths, allow_nan=False) -> list[list[float]] | None:
    """The file's numbers per line, or None when it is not a valid annotation file."""
    if "\x00" in text:
        return None
    lines = _lines(text.lstrip("\ufeff"))
    if lines is None:
        return None
    rows = []
    for line in lines:
        stripped = line.strip(" \t")
        if not stripped:
            return None
        values = [_number(t, allow_nan) for t in _SEPARATOR.split(stripped)]
        if any(v is None for v in values) or len(values) not in widths:
            return None
        rows.append(values)
    return rows


def oracle_flags(text: str, allowed=(0, 1)) -> list[int] | None:
    if "\x00" in text:
        return None
    lines = _lines(text.lstrip("\ufeff"))
    if lines is None:
        return None
    tokens_per_line = [_SEPARATOR.split(line.strip(" \t")) for line in lines]
    if len(lines) > 1 and any(len(t) != 1 for t in tokens_per_line):
        return None
    flat = [t for tokens in tokens_per_line for t in tokens]
    if not all(re.fullmatch(r"[+-]?[0-9]+", t) for t in flat):
        return None
    values = [int(t) for t in flat]
    return values if all(v in allowed for v in values) else None


def same(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


# ---------------------------------------------------------------- valid files and damage
SEPARATORS = [",", "\t", " ", ", ", ";", " , "]


@st.composite
def number_text(draw, width: int, min_rows=1, max_rows=8, decimals=True, nan_rows=False):
    n = draw(st.integers(min_rows, max_rows))
    sep = draw(st.sampled_from(SEPARATORS))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    lines = []
    for _ in range(n):
        if nan_rows and draw(st.integers(0, 5)) == 0:
            lines.append(sep.join(["NaN"] * width))
            continue
        values = draw(st.lists(st.integers(-50, 2000), min_size=width, max_size=width))
        cells = [f"{v / 100:.2f}" if decimals and draw(st.booleans()) else str(v) for v in values]
        lines.append(sep.join(cells))
    return newline.join(lines) + newline * draw(st.integers(0, 3))


@st.composite
def flags_text(draw, n: int, one_line: bool, high: int = 1):
    values = draw(st.lists(st.integers(0, high), min_size=n, max_size=n))
    return ",".join(map(str, values)) + "\n" if one_line else "\n".join(map(str, values)) + "\n"


JUNK = ["a", "x", "e", "E", ".", ",", ";", "-", "+", " ", "\t", "\n", "\r", "0", "7", "nan", "inf", "1_0", "é", "\x00"]


@st.composite
def damaged(draw, text: str) -> str:
    """``text`` with one random kind of damage (which may or may not break it)."""
    kind = draw(st.sampled_from(["truncate_file", "truncate_line", "insert", "replace_char", "extra_column",
                                 "drop_column", "delete_line", "duplicate_line", "blank_line", "double_sep",
                                 "empty", "token_junk"]))
    lines = text.split("\n")
    i = draw(st.integers(0, max(len(lines) - 1, 0)))
    if kind == "truncate_file":
        return text[: draw(st.integers(0, len(text)))]
    if kind == "truncate_line":
        lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
    elif kind == "insert":
        pos = draw(st.integers(0, len(text)))
        return text[:pos] + draw(st.sampled_from(JUNK)) + text[pos:]
    elif kind == "replace_char" and text:
        pos = draw(st.integers(0, len(text) - 1))
        return text[:pos] + draw(st.sampled_from(JUNK)) + text[pos + 1:]
    elif kind == "extra_column":
        lines[i] = lines[i] + draw(st.sampled_from([",5", "\t1", " 0", ",", ",,3"]))
    elif kind == "drop_column":
        lines[i] = re.sub(r"[ \t,;]*[^ \t,;]*\s*$", "", lines[i])
    elif kind == "delete_line":
        del lines[i]
    elif kind == "duplicate_line":
        lines.insert(i, lines[i])
    elif kind == "blank_line":
        lines.insert(i, draw(st.sampled_from(["", " ", "\t"])))
    elif kind == "double_sep":
        lines[i] = re.sub(r",", ",,", lines[i], count=1) if "," in lines[i] else lines[i] + "  ,"
    elif kind == "empty":
        return draw(st.sampled_from(["", "\n", " \r\n"]))
    elif kind == "token_junk":
        tokens = lines[i].split(",")
        tokens[draw(st.integers(0, len(tokens) - 1))] = draw(st.sampled_from(["", "abc", "1e5", "-", "NaN", "1.5.2", "--3", "0x1F"]))
        lines[i] = ",".join(tokens)
    return "\n".join(lines)


def fresh_dir() -> Path:
    # hypothesis runs many examples per test: a new folder each (tmp_path is per test).
    return Path(tempfile.mkdtemp(prefix="lt-fuzz-"))


def assert_raises_naming(fn, *paths: Path):
    try:
        result = fn()
    except LongtrackError as err:
        assert any(str(p) in str(err) for p in paths), f"error does not name {paths}: {err}"
        event("rejected")
        return None
    event("accepted")
    return result


# ---------------------------------------------------------------- the parser itself
@FUZZ
@given(data=st.data(), width=st.sampled_from([4, 6]), allow_nan=st.booleans())
def test_number_table(data, width, allow_nan):
    text = data.draw(damaged(data.draw(number_text(width, nan_rows=allow_nan))))
    folder = fresh_dir()
    try:
        path = folder / "groundtruth.txt"
        path.write_bytes(text.encode("utf-8"))
        expected = oracle_rows(text, {width}, allow_nan)
        got = assert_raises_naming(lambda: read_number_table(path, width, allow_nan=allow_nan), path)
        if expected is None:
            assert got is None, f"damaged file accepted: {text!r} -> {got}"
        else:
            assert got is not None, f"valid file rejected: {text!r}"
            assert same(got, expected)
    finally:
        shutil.rmtree(folder)


@FUZZ
@given(data=st.data(), n=st.integers(1, 12), one_line=st.booleans())
def test_flags(data, n, one_line):
    text = data.draw(damaged(data.draw(flags_text(n, one_line))))
    folder = fresh_dir()
    try:
        path = folder / "full_occlusion.txt"
        path.write_bytes(text.encode("utf-8"))
        expected = oracle_flags(text)
        got = assert_raises_naming(lambda: read_flags(path, length=n), path)
        if expected is None or len(expected) != n:
            assert got is None, f"damaged flags accepted: {text!r} -> {got}"
        else:
            assert got is not None and got.tolist() == expected
    finally:
        shutil.rmtree(folder)


# ---------------------------------------------------------------- whole readers
def _sequence_or_error(dataset: str, root: Path, folder: Path):
    """Load the one sequence; an error must name a file inside the sequence's folder."""
    return assert_raises_naming(lambda: load_dataset(dataset, root)[0], folder)


@FUZZ
@given(data=st.data(), n=st.integers(1, 8), target=st.sampled_from(["gt", "occlusion", "out_of_view"]))
def test_lasot_dataset_layout(data, n, target):
    gt = data.draw(number_text(4, min_rows=n, max_rows=n, decimals=False))
    occ, oov = data.draw(flags_text(n, True)), data.draw(flags_text(n, True))
    files = {"gt": gt, "occlusion": occ, "out_of_view": oov}
    files[target] = data.draw(damaged(files[target]))
    root = fresh_dir()
    try:
        folder = root / "bird" / "bird-3"
        folder.mkdir(parents=True)
        (folder / "groundtruth.txt").write_bytes(files["gt"].encode())
        (folder / "full_occlusion.txt").write_bytes(files["occlusion"].encode())
        (folder / "out_of_view.txt").write_bytes(files["out_of_view"].encode())
        seq = _sequence_or_error("lasot", root, folder)
        boxes, fo, ov = oracle_rows(files["gt"], {4}), oracle_flags(files["occlusion"]), oracle_flags(files["out_of_view"])
        valid = boxes is not None and fo is not None and ov is not None and len(boxes) == len(fo) == len(ov)
        assert (seq is not None) == valid, files
        if seq is not None:
            assert same(seq.boxes, boxes)
            assert seq.absent.tolist() == [bool(a or b) for a, b in zip(fo, ov)]
    finally:
        shutil.rmtree(root)


@FUZZ
@given(data=st.data(), n=st.integers(1, 8), target=st.sampled_from(["gt", "absent"]))
def test_lasot_toolkit_layout(data, n, target):
    files = {"gt": data.draw(number_text(4, min_rows=n, max_rows=n)), "absent": data.draw(flags_text(n, False))}
    files[target] = data.draw(damaged(files[target]))
    root = fresh_dir()
    try:
        (root / "annos" / "absent").mkdir(parents=True)
        (root / "annos" / "cat-1.txt").write_bytes(files["gt"].encode())
        (root / "annos" / "absent" / "cat-1.txt").write_bytes(files["absent"].encode())
        seq = _sequence_or_error("lasot", root, root / "annos")
        boxes, absent = oracle_rows(files["gt"], {4}), oracle_flags(files["absent"])
        valid = boxes is not None and absent is not None and len(boxes) == len(absent)
        assert (seq is not None) == valid, files
        if seq is not None:
            assert same(seq.boxes, boxes) and seq.absent.tolist() == [a == 1 for a in absent]
    finally:
        shutil.rmtree(root)


@FUZZ
@given(data=st.data(), n=st.integers(1, 8))
def test_tlp(data, n):
    rows = [f"{i},{x},{y},{w},{h},{lost}" for i, (x, y, w, h, lost) in enumerate(
        data.draw(st.lists(st.tuples(*[st.integers(0, 500)] * 4, st.integers(0, 1)), min_size=n, max_size=n)), start=1)]
    text = data.draw(damaged("\n".join(rows) + "\n"))
    root = fresh_dir()
    try:
        folder = root / "Bike"
        folder.mkdir()
        (folder / "groundtruth_rect.txt").write_bytes(text.encode())
        seq = _sequence_or_error("tlp", root, folder)
        table = oracle_rows(text, {6})
        valid = (table is not None and [r[0] for r in table] == list(range(1, len(table) + 1))
                 and all(r[5] in (0, 1) for r in table))
        assert (seq is not None) == valid, text
        if seq is not None:
            assert same(seq.boxes, [r[1:5] for r in table]) and seq.absent.tolist() == [r[5] == 1 for r in table]
    finally:
        shutil.rmtree(root)


@FUZZ
@given(data=st.data(), n=st.integers(1, 8), target=st.sampled_from(["groundtruth.txt", "absence.label", "cover.label"]))
def test_got10k(data, n, target):
    files = {"groundtruth.txt": data.draw(number_text(4, min_rows=n, max_rows=n)),
             "absence.label": data.draw(flags_text(n, False)),
             "cover.label": data.draw(flags_text(n, False, high=8)),
             "cut_by_image.label": data.draw(flags_text(n, False))}
    files[target] = data.draw(damaged(files[target]))
    root = fresh_dir()
    try:
        folder = root / "GOT-10k_Val_000001"
        folder.mkdir()
        (root / "list.txt").write_text("GOT-10k_Val_000001\n")
        for name, text in files.items():
            (folder / name).write_bytes(text.encode())
        seq = _sequence_or_error("got10k", root, folder)
        boxes = oracle_rows(files["groundtruth.txt"], {4})
        absence, cover = oracle_flags(files["absence.label"]), oracle_flags(files["cover.label"], range(9))
        valid = boxes is not None and absence is not None and cover is not None and len(boxes) == len(absence) == len(cover)
        assert (seq is not None) == valid, files
        if seq is not None:
            assert same(seq.boxes, boxes) and seq.absent.tolist() == [a == 1 for a in absence]
            assert seq.attributes["cover"].tolist() == cover
    finally:
        shutil.rmtree(root)


@FUZZ
@given(data=st.data())
def test_otb_and_uav(data):
    text = data.draw(damaged(data.draw(number_text(4, nan_rows=True))))
    root = fresh_dir()
    try:
        (root / "Car4").mkdir()
        (root / "Car4" / "groundtruth_rect.txt").write_bytes(text.encode())
        (root / "anno" / "UAV123").mkdir(parents=True)
        (root / "anno" / "UAV123" / "bike1.txt").write_bytes(text.encode())
        otb = _sequence_or_error("otb", root, root / "Car4")
        assert (otb is not None) == (oracle_rows(text, {4}) is not None), text
        if otb is not None:
            assert same(otb.boxes, oracle_rows(text, {4}))
        uav = _sequence_or_error("uav", root, root / "anno")
        rows = oracle_rows(text, {4}, allow_nan=True)
        valid = rows is not None and all(all(map(math.isnan, r)) or not any(map(math.isnan, r)) for r in rows)
        assert (uav is not None) == valid, text
        if uav is not None:
            assert same(uav.boxes, rows) and uav.absent.tolist() == [math.isnan(r[0]) for r in rows]
    finally:
        shutil.rmtree(root)


@FUZZ
@given(data=st.data())
def test_vot_regions(data):
    n = data.draw(st.integers(1, 8))
    lines = []
    for _ in range(n):
        kind = data.draw(st.sampled_from(["rect", "poly", "zero", "nan"]))
        if kind == "rect":
            lines.append(",".join(str(v) for v in data.draw(st.lists(st.integers(0, 300), min_size=4, max_size=4))))
        elif kind == "poly":
            lines.append(",".join(f"{v / 10:.1f}" for v in data.draw(st.lists(st.integers(0, 3000), min_size=8, max_size=8))))
        else:
            lines.append("0" if kind == "zero" else "nan,nan,nan,nan")
    text = data.draw(damaged("\n".join(lines) + "\n"))
    root = fresh_dir()
    try:
        folder = root / "sequences" / "ball"
        folder.mkdir(parents=True)
        (root / "sequences" / "list.txt").write_text("ball\n")
        (folder / "groundtruth.txt").write_bytes(text.encode())
        seq = _sequence_or_error("votlt2019", root, folder)
        rows = oracle_rows(text, {1, 4, 8}, allow_nan=True)
        valid = rows is not None and all(
            (len(r) == 1 and (r[0] == 0 or math.isnan(r[0])))
            or (len(r) > 1 and (all(map(math.isnan, r)) or not any(map(math.isnan, r)))) for r in rows)
        assert (seq is not None) == valid, text
        if seq is not None:
            empty = [len(r) == 1 or math.isnan(r[0]) for r in rows]
            assert seq.absent.tolist() == empty
            for box, row, is_empty in zip(seq.boxes, rows, empty):
                if is_empty:
                    assert np.isnan(box).all()
                elif len(row) == 4:
                    assert same(box, row)
                else:
                    xs, ys = row[0::2], row[1::2]
                    assert same(box, [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)])
    finally:
        shutil.rmtree(root)


@FUZZ
@given(data=st.data())
def test_trackingnet(data):
    text = data.draw(damaged(data.draw(number_text(4))))
    root = fresh_dir()
    try:
        (root / "TRAIN_0" / "anno").mkdir(parents=True)
        (root / "TRAIN_0" / "anno" / "seq_7.txt").write_bytes(text.encode())
        seq = _sequence_or_error("trackingnet", root / "TRAIN_0", root / "TRAIN_0" / "anno")
        assert (seq is not None) == (oracle_rows(text, {4}) is not None), text
        if seq is not None:
            assert same(seq.boxes, oracle_rows(text, {4}))
    finally:
        shutil.rmtree(root)


@FUZZ
@given(data=st.data())
def test_oxuva_annotations(data):
    n = data.draw(st.integers(2, 6))
    rows = []
    for k in range(n):
        present = k == 0 or data.draw(st.booleans())
        box = data.draw(st.lists(st.integers(0, 100), min_size=4, max_size=4)) if present else [0, 0, 0, 0]
        rows.append(f"vid0001,obj0000,3,dog,false,true,{30 * k},{'present' if present else 'absent'},"
                    + ",".join(f"{v / 100:g}" for v in box))
    text = data.draw(damaged("\n".join(rows) + "\n"))
    root = fresh_dir()
    try:
        (root / "annotations.csv").write_bytes(text.encode())
        seqs = assert_raises_naming(lambda: load_dataset("oxuva", root), root / "annotations.csv")
        expected = oracle_oxuva(text)
        assert (seqs is not None) == (expected is not None), text
        if seqs is not None:
            assert len(seqs) == len(expected)
            for seq in seqs:
                labels = expected[seq.name]
                init = min(labels)
                assert np.flatnonzero(seq.labelled).tolist() == sorted(t - init for t in labels)
                for t, (present, box) in labels.items():
                    assert seq.absent[t - init] == (not present)
                    assert same(seq.meta["relative_boxes"][t - init], box)
    finally:
        shutil.rmtree(root)


def oracle_oxuva(text: str):
    """Tracks as ``{name: {frame: (present, box)}}``, or None for an invalid file."""
    import csv

    if "\x00" in text:  # not a text file
        return None
    tracks: dict = {}
    for row in csv.reader(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")):
        if not row or all(not v.strip() for v in row):
            continue
        if len(row) != 12:
            return None
        row = [v.strip() for v in row]
        if not re.fullmatch(r"[0-9]+", row[6]) or row[7] not in ("present", "absent"):
            return None
        box = [_number(v, False) for v in row[8:]]
        if row[7] == "present" or any(row[8:]):
            if any(v is None for v in box):
                return None
        else:
            box = [math.nan] * 4
        track = tracks.setdefault(f"{row[0]}_{row[1]}", {})
        if int(row[6]) in track:
            return None
        track[int(row[6])] = (row[7] == "present", box)
    if not tracks or any(len(t) < 2 for t in tracks.values()):
        return None
    return tracks
