"""Frame image files of a sequence: listing in frame order and reading the image size from the
file header (no decoding), so that loading a dataset stays cheap."""
from __future__ import annotations

import os
import re
import struct
from pathlib import Path

from ..errors import LongtrackError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
_TRAILING_NUMBER = re.compile(r"([0-9]+)$")


def frame_number(path: str | Path) -> int | None:
    """The number at the end of a frame file's stem (``img/00042.jpg`` -> 42), else None."""
    match = _TRAILING_NUMBER.search(Path(path).stem)
    return int(match.group(1)) if match else None


def list_frames(folder: str | Path, extensions: tuple[str, ...] = IMAGE_EXTENSIONS) -> list[Path] | None:
    """Image files of ``folder`` in frame order, or None when the folder does not exist.

    Files are ordered by the number ending their name (so ``2.jpg`` comes before ``10.jpg``,
    as TrackingNet needs); names without a number sort after, alphabetically.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return None
    with os.scandir(folder) as entries:
        names = [e.name for e in entries
                 if e.name.lower().endswith(extensions) and not e.name.startswith(".") and e.is_file()]

    def key(name: str):
        number = frame_number(name)
        return (0, number, name) if number is not None else (1, 0, name)

    return [folder / name for name in sorted(names, key=key)]


def frames_in_range(frames: list[Path], first: int, last: int, where: str | Path) -> list[Path]:
    """The frames numbered ``first..last`` (inclusive, file numbers) in order; all must exist."""
    by_number = {frame_number(f): f for f in frames}
    missing = [n for n in (first, last) if n not in by_number]
    if missing:
        raise LongtrackError(f"{where}: frame {missing[0]} of the range {first}..{last} has no image file")
    picked = [by_number[n] for n in range(first, last + 1) if n in by_number]
    if len(picked) != last - first + 1:
        raise LongtrackError(
            f"{where}: {last - first + 1 - len(picked)} image files missing in the frame range {first}..{last}")
    return picked


def image_size(path: str | Path) -> tuple[int, int] | None:
    """``(width, height)`` from a JPEG, PNG or BMP header; None for other or unreadable files."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(26)
            if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
                width, height = struct.unpack(">II", head[16:24])
                return int(width), int(height)
            if head[:2] == b"BM":
                width, height = struct.unpack("<ii", head[18:26])
                return int(width), abs(int(height))
            if head[:2] == b"\xff\xd8":
                fh.seek(2)
                return _jpeg_size(fh)
    except (OSError, struct.error):
        return None
    return None


# Start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) do not.
_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(fh) -> tuple[int, int] | None:
    while True:
        byte = fh.read(1)
        while byte and byte != b"\xff":  # skip to the next marker
            byte = fh.read(1)
        while byte == b"\xff":  # markers may be padded with 0xFF bytes
            byte = fh.read(1)
        if not byte:
            return None
        marker = byte[0]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            continue  # stand-alone markers without a length
        if marker == 0xD9:
            return None
        length_bytes = fh.read(2)
        if len(length_bytes) < 2:
            return None
        (length,) = struct.unpack(">H", length_bytes)
        if marker in _SOF_MARKERS:
            data = fh.read(5)
            if len(data) < 5:
                return None
            height, width = struct.unpack(">HH", data[1:5])
            return int(width), int(height)
        fh.seek(length - 2, os.SEEK_CUR)
