"""Frame sources (video file, image folder, camera) and the annotated-MP4 writer.

Every source streams: one decoded frame is alive at a time, however long the video (TLP
videos run to tens of thousands of frames). Frames are ``H x W x 3`` uint8 RGB arrays;
grayscale and RGBA inputs are converted (``contract.as_rgb``), never rejected.
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from .contract import as_rgb
from .drawing import ABSENT_COLOR, GT_COLOR, PRED_COLOR, TEXT_COLOR, draw_prediction  # noqa: F401 (re-exported)
from .errors import LongtrackError
from .fileio import atomic_path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
FOLDER_FPS = 30.0  # image folders carry no frame rate; 30 is what LaSOT/OTB frames were shot at
CAMERA_FPS = 30.0  # used when a camera does not report its rate
# OpenCV's bundled FFmpeg prints its own complaints about broken files to stderr; longtrack
# reports them as one LongtrackError line instead (a user's explicit setting is kept).
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Decode an image file into an ``H x W x 3`` uint8 RGB array.

    Grayscale, RGBA and 16-bit images are converted. Raises ``LongtrackError`` naming the file
    when it is missing, unreadable or not a decodable image.
    """
    path = Path(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)  # fromfile + imdecode also handles non-ASCII paths
    except FileNotFoundError:
        raise LongtrackError(f"image not found: {path}") from None
    except IsADirectoryError:
        raise LongtrackError(f"{path} is a folder, expected an image file") from None
    except OSError as exc:
        raise LongtrackError(f"cannot read image {path}: {exc.strerror or exc}") from None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise LongtrackError(f"cannot decode image {path}: the file is empty, corrupt or not an image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def natural_key(name: str) -> list:
    """Sort key that orders ``img2.png`` before ``img10.png``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


class FrameSource:
    """An iterable of RGB frames with ``fps``, ``size`` = (width, height) and ``num_frames``
    (None when unknown, e.g. a camera). Iterating again starts again from the first frame
    (a camera continues live)."""

    fps: float
    size: tuple[int, int]
    num_frames: int | None
    name: str

    def __iter__(self) -> Iterator[np.ndarray]:
        raise NotImplementedError

    def __len__(self) -> int:
        if self.num_frames is None:
            raise TypeError(f"{self.name}: the number of frames is unknown")
        return self.num_frames

    def close(self) -> None:
        """Release the device or file handles (streaming sources hold none between iterations)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class ImageFolderSource(FrameSource):
    """The jpg/jpeg/png images of a folder, in natural order of their file names."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.name = str(self.folder)
        try:
            entries = [p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
        except OSError as exc:
            raise LongtrackError(f"cannot list folder {self.folder}: {exc.strerror or exc}") from None
        if not entries:
            raise LongtrackError(f"folder {self.folder} holds no images (.jpg, .jpeg or .png)")
        self.paths = sorted(entries, key=lambda p: natural_key(p.name))
        first = read_image(self.paths[0])
        self.size = (first.shape[1], first.shape[0])
        self.fps = FOLDER_FPS
        self.num_frames = len(self.paths)

    def __iter__(self) -> Iterator[np.ndarray]:
        for path in self.paths:
            yield read_image(path)


class VideoFileSource(FrameSource):
    """A video file decoded by PyAV (FFmpeg); OpenCV is the fallback for what PyAV cannot open.

    When fewer frames decode than the container's header declares (a truncated download or
    copy of a "faststart" MP4, whose header comes first), iterating raises ``LongtrackError``
    after the last good frame; ``allow_truncated=True`` (``track --allow-truncated``) ends the
    stream there instead, and ``truncated`` then says so. Checked with PyAV, whose frame count
    is the container's own; OpenCV's is often an estimate from the duration.
    """

    def __init__(self, path: str | os.PathLike, allow_truncated: bool = False):
        self.path = Path(path)
        self.name = str(self.path)
        self.allow_truncated = bool(allow_truncated)
        self.frames_decoded: int | None = None  # after a full iteration: how many frames decoded
        if not self.path.exists():
            raise LongtrackError(f"video not found: {self.path}")
        if not os.access(self.path, os.R_OK):
            raise LongtrackError(f"cannot read {self.path}: permission denied")
        self._backend = "pyav"
        try:
            self._probe_pyav()
        except LongtrackError as pyav_error:
            self._backend = "opencv"
            if not self._probe_opencv():
                raise pyav_error from None

    def _probe_pyav(self) -> None:
        import av

        try:
            with av.open(str(self.path)) as container:
                if not container.streams.video:
                    raise LongtrackError(f"{self.path} holds no video stream")
                stream = container.streams.video[0]
                first = next(container.decode(stream), None)  # decoding one frame proves the file is sane
                if first is None:
                    raise LongtrackError(f"{self.path} holds no decodable video frame")
                rate = stream.average_rate or stream.guessed_rate
                self.fps = float(rate) if rate else FOLDER_FPS
                self.size = (first.width, first.height)
                self.num_frames = int(stream.frames) or None
        except av.error.FFmpegError as exc:
            raise LongtrackError(f"cannot read video {self.path}: corrupt or unsupported "
                                 f"({getattr(exc, 'strerror', None) or exc})") from None

    def _probe_opencv(self) -> bool:
        cap = cv2.VideoCapture(str(self.path))
        try:
            ok, frame = cap.read() if cap.isOpened() else (False, None)
            if not ok or frame is None:
                return False
            self.fps = float(cap.get(cv2.CAP_PROP_FPS)) or FOLDER_FPS
            self.size = (frame.shape[1], frame.shape[0])
            count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
            self.num_frames = count if count > 0 else None
            return True
        finally:
            cap.release()

    def __iter__(self) -> Iterator[np.ndarray]:
        return self._iter_pyav() if self._backend == "pyav" else self._iter_opencv()

    def _iter_pyav(self) -> Iterator[np.ndarray]:
        import av

        index = 0
        self.frames_decoded = None
        with av.open(str(self.path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            try:
                for frame in container.decode(stream):
                    yield frame.to_ndarray(format="rgb24")
                    index += 1
            except av.error.FFmpegError as exc:
                if not (self.allow_truncated and index > 0):
                    raise LongtrackError(f"{self.path}: cannot decode frame {index}, the file is corrupt "
                                         f"({getattr(exc, 'strerror', None) or exc})") from None
        self.frames_decoded = index
        if self.num_frames and index < self.num_frames and not self.allow_truncated:
            raise LongtrackError(
                f"{self.path}: only {index} of the {self.num_frames} frames its header declares decode "
                "(a truncated or damaged file); --allow-truncated (allow_truncated=True) accepts them")

    @property
    def truncated(self) -> bool:
        """True after an iteration that decoded fewer frames than the header declares."""
        return bool(self.num_frames and self.frames_decoded is not None and self.frames_decoded < self.num_frames)

    def _iter_opencv(self) -> Iterator[np.ndarray]:
        cap = cv2.VideoCapture(str(self.path))
        try:
            while True:
                ok, frame = cap.read()
                if not ok:
                    return
                yield as_rgb(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) if frame.ndim == 3 else frame)
        finally:
            cap.release()


class CameraSource(FrameSource):
    """A live camera through ``cv2.VideoCapture(index)``; frames arrive until the camera stops."""

    def __init__(self, index: int):
        self.index = int(index)
        self.name = f"camera {self.index}"
        self._cap = cv2.VideoCapture(self.index)
        ok, frame = self._cap.read() if self._cap.isOpened() else (False, None)
        if not ok or frame is None:
            self._cap.release()
            raise LongtrackError(f"cannot open camera {self.index}")
        self._first = frame
        self.size = (frame.shape[1], frame.shape[0])
        self.fps = float(self._cap.get(cv2.CAP_PROP_FPS)) or CAMERA_FPS
        self.num_frames = None

    def __iter__(self) -> Iterator[np.ndarray]:
        frame, self._first = self._first, None
        while True:
            if frame is None:
                ok, frame = self._cap.read()
                if not ok:
                    return
            yield as_rgb(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) if frame.ndim == 3 else frame)
            frame = None

    def close(self) -> None:
        self._cap.release()


def open_source(source: str | int | os.PathLike, allow_truncated: bool = False) -> FrameSource:
    """Open a video file, an image folder or a camera (an int or a digit string such as ``"0"``
    that is not an existing path). Raises ``LongtrackError`` for anything unusable.
    ``allow_truncated``: a video file may decode fewer frames than it declares (see
    ``VideoFileSource``)."""
    if isinstance(source, FrameSource):
        return source
    if isinstance(source, (int, np.integer)) and not isinstance(source, bool):
        return CameraSource(int(source))
    path = Path(source)
    if path.is_dir():
        return ImageFolderSource(path)
    if path.exists():
        return VideoFileSource(path, allow_truncated=allow_truncated)
    if str(source).isdigit():
        return CameraSource(int(str(source)))
    raise LongtrackError(f"source not found: {source} (expected a video file, an image folder or a camera index)")


class VideoWriter:
    """Write RGB frames to an H.264 (yuv420p) MP4, atomically.

    Frames go to a temporary file beside ``path``, renamed onto it by ``close()``; leaving the
    ``with`` block through an exception (or calling ``abort()``) deletes the temporary file, so
    an interrupted run never leaves a truncated video. Odd sizes are padded by one pixel to the
    even size yuv420p needs. ``size`` is (width, height).
    """

    def __init__(self, path: str | os.PathLike, fps: float, size: tuple[int, int], crf: int = 23):
        import av

        self.path = Path(path)
        self.size = (int(size[0]), int(size[1]))
        if self.size[0] <= 0 or self.size[1] <= 0:
            raise LongtrackError(f"video size must be positive, got {size}")
        self._encoded_size = (self.size[0] + self.size[0] % 2, self.size[1] + self.size[1] % 2)
        self._stack = contextlib.ExitStack()
        tmp = self._stack.enter_context(atomic_path(self.path))
        rate = Fraction(float(fps) if fps and fps > 0 else FOLDER_FPS).limit_denominator(1001)
        try:
            self._container = av.open(str(tmp), mode="w", format="mp4")
            codec = "libx264" if "libx264" in av.codecs_available else "h264"
            self._stream = self._container.add_stream(codec, rate=rate)
            self._stream.width, self._stream.height = self._encoded_size
            self._stream.pix_fmt = "yuv420p"
            self._stream.options = {"crf": str(crf), "preset": "veryfast"}
        except Exception:
            self._stack.__exit__(*sys.exc_info())
            raise
        self.frames_written = 0
        self._closed = False

    def write(self, frame: np.ndarray) -> None:
        """Append one frame (``H x W x 3`` RGB, grayscale or RGBA) of the writer's size."""
        import av

        rgb = as_rgb(frame)
        if (rgb.shape[1], rgb.shape[0]) != self.size:
            raise LongtrackError(
                f"{self.path}: frame of size {rgb.shape[1]}x{rgb.shape[0]}, the video is {self.size[0]}x{self.size[1]}")
        if self._encoded_size != self.size:
            pad_w, pad_h = self._encoded_size[0] - self.size[0], self._encoded_size[1] - self.size[1]
            rgb = np.pad(rgb, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
        for packet in self._stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
            self._container.mux(packet)
        self.frames_written += 1

    def close(self) -> None:
        """Flush the encoder and move the finished file onto ``path``."""
        if self._closed:
            return
        self._closed = True
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            self._container.close()
        except BaseException:
            self._stack.__exit__(*sys.exc_info())
            raise
        self._stack.close()

    def abort(self) -> None:
        """Drop the temporary file; ``path`` is left as it was."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            self._container.close()
        with contextlib.suppress(OSError):
            self._stack.__exit__(RuntimeError, RuntimeError("aborted"), None)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
