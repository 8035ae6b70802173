"""The shared annotation parser: what real files do is accepted, damage is named by file and line,
and the vectorised fast path equals ``float()`` exactly."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from longtrack.datasets.annotation_text import read_flags, read_number_rows, read_number_table
from longtrack.datasets.fast_numbers import parse_plain_decimals
from longtrack.errors import LongtrackError


def write(tmp_path, text, name="gt.txt", binary=False):
    path = tmp_path / name
    if binary:
        path.write_bytes(text)
    else:
        path.write_bytes(text.encode("utf-8"))
    return path


@pytest.mark.parametrize("text", [
    "1,2,3,4\n5,6,7,8\n",
    "1\t2\t3\t4\r\n5\t6\t7\t8\r\n",
    "1 2 3 4\n5 6 7 8\n\n\n  \n",
    "1, 2 ,3;4\n 5\t6 7, 8",
    "\ufeff1,2,3,4\r5,6,7,8\r",
    "+1.,2.0,.3e1,4\n5,6,7,8e0\n",
])
def test_accepted_layouts(tmp_path, text):
    table = read_number_table(write(tmp_path, text), 4)
    np.testing.assert_array_equal(table, [[1, 2, 3, 4], [5, 6, 7, 8]])


def test_zero_size_and_negative_boxes_are_numbers(tmp_path):
    table = read_number_table(write(tmp_path, "1,1,0,0\n613,731,247,-11\n"), 4)
    np.testing.assert_array_equal(table, [[1, 1, 0, 0], [613, 731, 247, -11]])


@pytest.mark.parametrize("text,line,message", [
    ("1,2,3,4\n5,6,7\n", 2, "expected 4 values, found 3"),
    ("1,2,3,4\n5,6,7,8,9\n", 2, "expected 4 values, found 5"),
    ("1,2,3,4\n5,6,x,8\n", 2, "column 3 is not a number: 'x'"),
    ("1,2,3,4\n5,,7,8\n", 2, "empty value in column 2"),
    ("1,2,3,4,\n", 1, "empty value in column 5"),
    ("1,2,3,4\n\n5,6,7,8\n", 2, "blank line"),
    ("1,2,3,inf\n", 1, "column 4 is not a number: 'inf'"),
    ("1,2,3,1_0\n", 1, "not a number: '1_0'"),
    ("1,2,3,1e309\n", 1, "column 4 is out of range: '1e309'"),
    ("1,2,3,NaN\n", 1, "not a number: 'NaN'"),
    ("1,2,3,4\n1.2.3,2,3,4\n", 2, "not a number: '1.2.3'"),
    ("1,2,3,4\n1-2,3,4,5\n", 2, "not a number: '1-2'"),
])
def test_damage_is_named_by_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(LongtrackError) as err:
        read_number_table(path, 4)
    assert f"{path}:{line}: " in str(err.value) and message in str(err.value)


@pytest.mark.parametrize("data,message", [(b"", "file is empty"), (b"\n \n", "file is empty"),
                                          (b"1,2,3,\xff\n", "not UTF-8"), (b"1,2\x00,3,4\n", "NUL byte")])
def test_empty_and_binary_files(tmp_path, data, message):
    path = write(tmp_path, data, binary=True)
    with pytest.raises(LongtrackError, match=message) as err:
        read_number_table(path, 4)
    assert str(path) in str(err.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(LongtrackError, match="nope.txt: file not found"):
        read_number_table(tmp_path / "nope.txt", 4)


def test_nan_only_where_allowed(tmp_path):
    path = write(tmp_path, "nan,NaN,-nan,+NAN\n1,2,3,4\n")
    table = read_number_table(path, 4, allow_nan=True)
    assert np.isnan(table[0]).all() and table[1].tolist() == [1, 2, 3, 4]


def test_rows_of_varying_width(tmp_path):
    rows = read_number_rows(write(tmp_path, "0\n1,2,3,4\n1,2,3,4,5,6,7,8\nnan,nan,nan,nan\n"), (1, 4, 8), allow_nan=True)
    assert [len(r) for r in rows] == [1, 4, 8, 4]
    with pytest.raises(LongtrackError, match=r"gt.txt:2: expected 1 or 4 or 8 values, found 6"):
        read_number_rows(write(tmp_path, "0\n1,2,3,4,5,6\n"), (1, 4, 8))


def test_flags_one_per_line_or_one_line(tmp_path):
    np.testing.assert_array_equal(read_flags(write(tmp_path, "0\n1\r\n0\n\n")), [0, 1, 0])
    np.testing.assert_array_equal(read_flags(write(tmp_path, "0,1,1,0\n")), [0, 1, 1, 0])
    np.testing.assert_array_equal(read_flags(write(tmp_path, "8\n0\n3\n"), allowed=range(9)), [8, 0, 3])


@pytest.mark.parametrize("text,message", [
    ("0\n2\n", r":2: flags value 2 is not one of 0, 1"),
    ("0\n1,0\n", r":2: expected one value per line, found 2"),
    ("0,1,,0\n", r":1: value 3: empty value"),
    ("0\n0.5\n", r":2: not an integer flag: '0.5'"),
    ("0\n1\n", r"2 flags but the sequence has 3 frames"),
])
def test_damaged_flags(tmp_path, text, message):
    path = write(tmp_path, text, name="absent.txt")
    with pytest.raises(LongtrackError, match=message) as err:
        read_flags(path, length=3)
    assert str(path) in str(err.value)


DECIMAL = st.builds(
    lambda sign, whole, frac, dot: sign + whole + (("." + frac) if dot else ""),
    st.sampled_from(["", "-", "+"]), st.text("0123456789", min_size=1, max_size=8),
    st.text("0123456789", max_size=7), st.booleans())


@settings(max_examples=200, deadline=None)
@given(tokens=st.lists(st.lists(DECIMAL, min_size=3, max_size=3), min_size=1, max_size=20),
       sep=st.sampled_from([",", "\t", " ", ", ", " ;\t", "  "]))
def test_fast_path_equals_float(tokens, sep):
    content = "\n".join(sep.join(row) for row in tokens)
    parsed = parse_plain_decimals(content)
    expected = [float(t) for row in tokens for t in row]
    if parsed is None:  # only tokens with more than 15 digits leave the fast grammar
        assert any(sum(c.isdigit() for c in t) > 15 for row in tokens for t in row)
        return
    values, lines, _ = parsed
    assert values.tolist() == expected  # bit-exact, including -0.0 == 0.0
    assert np.signbit(values).tolist() == [t.startswith("-") for row in tokens for t in row]
    assert lines.tolist() == [i for i, row in enumerate(tokens) for _ in row]
