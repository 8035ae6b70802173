"""TraX server: any registered longtrack tracker as a tracker of the VOT toolkit.

The VOT toolkit (``vot evaluate``) starts this process and talks TraX over its stdin/stdout:
one ``initialize`` request (first image path + rectangle) per sequence, then one ``frame``
request per image. Per frame we reply with the box and its confidence as a *per-object*
property (vot-toolkit 0.9.0 drops a global one), and with the zero rectangle ``(0, 0, 0, 0)``
when the tracker reports the target absent (``trax.Special(0)`` makes vot-toolkit 0.9.0 fail).

The tracker is built once per process (the toolkit keeps the process across sequences). Any
error -- building the tracker, reading an image, tracking -- is written with its traceback to
the log file and to stderr (the toolkit saves stderr into ``<workspace>/logs``), and the
session is ended with a TraX ``quit`` carrying the reason, so the toolkit reports it instead of
waiting for a timeout.

Two ways to start it, both choosing the tracker the same way:

* ``longtrack vot --tracker NAME [--weights PATH] [--device DEV] [--log FILE]``;
* ``python -m longtrack.vot.trax_server`` with ``LONGTRACK_TRACKER``, ``LONGTRACK_WEIGHTS``,
  ``LONGTRACK_DEVICE`` and ``LONGTRACK_VOT_LOG`` in the environment (``protocol = traxpython``,
  ``command = longtrack.vot.trax_server`` and ``env_LONGTRACK_TRACKER = NAME`` in trackers.ini).
"""
from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ..errors import LongtrackError

ENV_TRACKER = "LONGTRACK_TRACKER"
ENV_WEIGHTS = "LONGTRACK_WEIGHTS"
ENV_DEVICE = "LONGTRACK_DEVICE"
ENV_LOG = "LONGTRACK_VOT_LOG"
CONFIDENCE = "confidence"  # the per-object property vot-toolkit's long-term analyses read
ZERO_RECTANGLE = (0.0, 0.0, 0.0, 0.0)  # "target absent" in a vot-toolkit 0.9.0 trajectory


def default_log_path() -> Path:
    """``$XDG_CACHE_HOME/longtrack/vot-server.log`` (``~/.cache/...`` without XDG)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "longtrack" / "vot-server.log"


@dataclass(frozen=True)
class ServerConfig:
    """What the server runs: a registered tracker name, its weights (None: the shipped
    default), the torch device and the log file (appended to)."""

    tracker: str
    weights: str | None = None
    device: str = "cpu"
    log_path: Path | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "ServerConfig":
        """Read ``LONGTRACK_TRACKER`` (required), ``LONGTRACK_WEIGHTS``, ``LONGTRACK_DEVICE``
        and ``LONGTRACK_VOT_LOG``; empty values count as unset."""
        tracker = environ.get(ENV_TRACKER, "").strip()
        if not tracker:
            raise LongtrackError(f"set {ENV_TRACKER} to a tracker name (see `longtrack trackers`), e.g. "
                                 f"env_{ENV_TRACKER} = classic-lt in the workspace's trackers.ini")
        log = environ.get(ENV_LOG, "").strip()
        return cls(tracker=tracker, weights=environ.get(ENV_WEIGHTS, "").strip() or None,
                   device=environ.get(ENV_DEVICE, "").strip() or "cpu",
                   log_path=Path(log) if log else None)


def reply_box(pred) -> tuple[float, float, float, float]:
    """The rectangle to report for a ``Prediction``: its box, or the zero rectangle when the
    tracker says the target is absent (or gave no finite box)."""
    if not pred.present or not all(math.isfinite(v) for v in pred.box):
        return ZERO_RECTANGLE
    return tuple(float(v) for v in pred.box)


def reply_confidence(pred) -> float:
    """The confidence to report; a NaN becomes 0 (vot-toolkit's value for a missing one)."""
    return float(pred.score) if math.isfinite(pred.score) else 0.0


def region_box(region) -> tuple[float, float, float, float]:
    """``(x, y, w, h)`` of a TraX rectangle, or the axis-aligned box of a TraX polygon."""
    import trax

    if region.type == trax.Region.RECTANGLE:
        return tuple(float(v) for v in region.bounds())
    if region.type == trax.Region.POLYGON:
        xs = [region.get(i)[0] for i in range(region.size)]
        ys = [region.get(i)[1] for i in range(region.size)]
        return (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
    raise LongtrackError(f"cannot initialize from a TraX region of type {region.type!r} "
                         "(longtrack takes rectangles or polygons)")


def open_log(path: Path | None) -> logging.Logger:
    """A logger writing INFO and above to ``path`` (appended; one line per event, tracebacks
    in full) and WARNING and above to stderr."""
    logger = logging.getLogger(f"longtrack.vot.server.{os.getpid()}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    fmt = logging.Formatter(f"%(asctime)s [pid {os.getpid()}] %(levelname)s %(message)s")
    to_stderr = logging.StreamHandler(sys.stderr)
    to_stderr.setLevel(logging.WARNING)
    to_stderr.setFormatter(fmt)
    logger.addHandler(to_stderr)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            to_file = logging.FileHandler(path, mode="a", encoding="utf-8")
        except OSError as exc:
            logger.warning("cannot open the log file %s (%s); logging to stderr only", path, exc)
        else:
            to_file.setFormatter(fmt)
            logger.addHandler(to_file)
    return logger


def _one_line(text: str, limit: int = 500) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


@contextlib.contextmanager
def _stdout_to_stderr():
    """Route Python-level prints to stderr while serving: stdout carries the TraX messages."""
    saved = sys.stdout
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        sys.stdout = saved


class _Session:
    """The per-request logic: holds the tracker and where the current sequence is."""

    def __init__(self, tracker, logger: logging.Logger):
        self.tracker = tracker
        self.logger = logger
        self.frame_index = -1
        self.image_path = ""

    def initialize(self, image_path: str, box) -> tuple[float, float, float, float]:
        from ..video import read_image

        self.frame_index, self.image_path = 0, image_path
        self.logger.info("initialize on %s with box %s", image_path, ",".join(f"{v:g}" for v in box))
        self.tracker.initialize(read_image(image_path), box)
        return tuple(float(v) for v in box)

    def frame(self, image_path: str):
        from ..video import read_image

        if self.frame_index < 0:
            raise LongtrackError("received a frame before any initialize request")
        self.frame_index += 1
        self.image_path = image_path
        pred = self.tracker.track(read_image(image_path))
        return reply_box(pred), reply_confidence(pred)

    def where(self) -> str:
        if self.frame_index < 0:
            return "before initialization"
        return f"frame {self.frame_index + 1} ({self.image_path})"


def serve(config: ServerConfig | None, config_error: Exception | None = None,
          log_path: Path | None = None) -> int:
    """Run the TraX server until the client quits. Returns 0, or 1 after a reported error.

    ``config_error`` (with ``config=None``): the tracker could not even be chosen; the server
    still answers the handshake so that the toolkit receives the reason. ``log_path``
    overrides ``config.log_path``; without either, ``default_log_path()``.
    """
    import trax

    log_path = log_path or (config.log_path if config else None) or default_log_path()
    logger = open_log(log_path)
    name = config.tracker if config else "?"
    with _stdout_to_stderr():
        failure, session = config_error, None
        if config is not None:
            logger.info("longtrack TraX server: tracker %s, weights %s, device %s",
                        name, config.weights or "(default)", config.device)
            try:
                from ..api import create

                session = _Session(create(name, weights=config.weights, device=config.device), logger)
            except Exception as exc:  # noqa: BLE001 - reported through the protocol below
                failure = exc
        server = trax.Server([trax.Region.RECTANGLE], [trax.Image.PATH], ["color"],
                             tracker_name=f"longtrack {name}", tracker_family="longtrack",
                             metadata={"longtrack.tracker": name})
        if session is None:
            return _report(server, logger, log_path, f"building tracker {name!r}", failure)
        while True:
            try:
                request = server.wait()
            except trax.TraxException as exc:  # the client went away mid-session
                logger.error("connection lost after %s: %s", session.where(), exc)
                return 1
            if request.type == trax.TraxStatus.QUIT:
                logger.info("client quit after %s", session.where())
                return 0
            try:
                path = request.image["color"].path()
                if request.type == trax.TraxStatus.INITIALIZE:
                    box = session.initialize(path, region_box(request.objects[0][0]))
                    server.status([(trax.Rectangle.create(*box), {})])
                else:
                    box, confidence = session.frame(path)
                    server.status([(trax.Rectangle.create(*box), {CONFIDENCE: confidence})])
            except Exception as exc:  # noqa: BLE001 - reported through the protocol and the log
                return _report(server, logger, log_path, session.where(), exc)


def _report(server, logger: logging.Logger, log_path: Path, where: str, exc: BaseException) -> int:
    """Log ``exc`` with its traceback (file + stderr) and end the session with the reason."""
    logger.error("%s failed at %s", type(exc).__name__, where, exc_info=exc)
    reason = _one_line(f"longtrack: {where}: {type(exc).__name__}: {exc} (log: {log_path})")
    try:
        server.quit(reason=reason)
    except Exception as quit_error:  # noqa: BLE001 - the client may already be gone
        logger.error("could not send the quit message: %s", quit_error)
    return 1


def main(environ: Mapping[str, str] = os.environ) -> int:
    """``python -m longtrack.vot.trax_server``: the tracker is chosen by environment variables."""
    try:
        config = ServerConfig.from_env(environ)
    except LongtrackError as exc:
        log = environ.get(ENV_LOG, "").strip()
        return serve(None, config_error=exc, log_path=Path(log) if log else None)
    return serve(config)


if __name__ == "__main__":
    sys.exit(main())
