"""``longtrack track``: follow a box through a video file, an image folder or a camera.

Several ``--box`` flags follow several targets: in one pass for a tracker that can
(``globaltrack``), else one tracker instance per target (``longtrack.multi_target``); the CSV
then has one row per target per frame, ``frame,target,x,y,w,h,score,present``."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..trackers import DEFAULT_TRACKER

    parser.add_argument("source", help="video file (H.264/MPEG-4 ...), folder of jpg/png images, or camera index")
    parser.add_argument("--box", required=True, action="append", metavar="X,Y,W,H",
                        help="the target in the first frame: top-left corner and size, in pixels; repeat "
                             "for several targets (numbered 0, 1, ... in this order)")
    parser.add_argument("--tracker", default=DEFAULT_TRACKER, help=f"tracker name (default: {DEFAULT_TRACKER}); "
                        "see `longtrack trackers`")
    parser.add_argument("--weights", default=None, metavar="PATH", help="checkpoint (default: the shipped weights)")
    parser.add_argument("--device", default="cpu", help="torch device for learned trackers (default: cpu)")
    parser.add_argument("--out", default=None, metavar="FILE.csv",
                        help="write frame,x,y,w,h,score,present per frame, with several boxes "
                             "frame,target,x,y,w,h,score,present per target (default: print to stdout)")
    parser.add_argument("--render", default=None, metavar="FILE.mp4",
                        help="also write an annotated H.264 MP4 (box, score, ABSENT mark; with several "
                             "boxes each tagged with its target number)")
    parser.add_argument("--allow-truncated", action="store_true",
                        help="track the frames that decode when a video file holds fewer than its header "
                             "declares (default: that is an error)")
    parser.epilog = ("The first box is clipped to the frame and must cover at least 2x2 pixels of it. "
                     "With a camera, Ctrl-C ends the capture and the results so far are written.")


def parse_box(text: str) -> tuple[float, float, float, float]:
    """``"X,Y,W,H"`` -> four floats, checked (finite, positive size); LongtrackError otherwise."""
    from ..contract import validate_box
    from ..errors import LongtrackError

    parts = [p.strip() for p in str(text).replace(" ", ",").split(",") if p.strip()]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise LongtrackError(f"--box must be X,Y,W,H (four numbers), got {text!r}") from None
    if len(values) != 4:
        raise LongtrackError(f"--box must be X,Y,W,H (four numbers), got {len(values)} in {text!r}")
    return validate_box(values)


def check_outputs(*paths: str | None) -> list[Path]:
    """Fail before any work when an output cannot be written or two outputs are the same file."""
    from ..errors import LongtrackError
    from ..fileio import check_writable

    checked = [check_writable(p) for p in paths if p is not None]
    resolved = [p.resolve() for p in checked]
    if len(set(resolved)) != len(resolved):
        raise LongtrackError("--out and --render name the same file")
    return checked


def run(args: argparse.Namespace) -> int:
    from ..contract import initial_box
    from ..errors import LongtrackError
    from ..multi_target import as_multi_target
    from ..predictions_io import (write_predictions, write_predictions_csv, write_target_predictions,
                                  write_target_predictions_csv)
    from ..registry import get_tracker_spec
    from ..video import open_source

    boxes = [parse_box(text) for text in args.box]
    spec = get_tracker_spec(args.tracker)  # an unknown name fails here, before opening anything
    if args.render is not None and Path(args.render).suffix.lower() != ".mp4":
        raise LongtrackError(f"--render must name an .mp4 file, got {args.render}")
    check_outputs(args.out, args.render)

    with open_source(args.source, allow_truncated=args.allow_truncated) as source:
        width, height = source.size
        boxes = [initial_box(box, (height, width)) for box in boxes]
        tracker = as_multi_target(lambda: spec.build(weights=args.weights, device=args.device))
        started = time.perf_counter()
        predictions = _track_frames(source, tracker, boxes, args)
    elapsed = time.perf_counter() - started
    if not predictions:
        raise LongtrackError(f"no frame could be read from {args.source}")
    if getattr(source, "truncated", False):
        print(f"longtrack track: warning: {args.source} declares {source.num_frames} frames, only "
              f"{len(predictions)} decode; tracked those (--allow-truncated)", file=sys.stderr)

    if len(boxes) == 1:  # one target: today's file, one row per frame
        to_file, to_stream, predictions = write_predictions_csv, write_predictions, [p[0] for p in predictions]
    else:
        to_file, to_stream = write_target_predictions_csv, write_target_predictions
    if args.out is not None:
        to_file(args.out, predictions)
    else:
        to_stream(sys.stdout, predictions)
    written = [p for p in (args.out, args.render) if p]
    print(f"tracked {len(predictions)} frames in {elapsed:.1f} s ({len(predictions) / max(elapsed, 1e-9):.1f} fps)"
          + (f"; wrote {', '.join(written)}" if written else ""), file=sys.stderr)
    return 0


def _track_frames(source, tracker, boxes, args) -> list:
    """Track ``boxes`` through ``source`` with a ``MultiTargetTracker``: per frame, the list of
    each target's prediction. Renders to ``args.render`` when asked (atomic: an error or an
    interruption leaves no video behind). With a camera, Ctrl-C ends the stream normally."""
    from tqdm import tqdm

    from ..contract import Prediction, TrackerError
    from ..errors import LongtrackError
    from ..drawing import draw_prediction, draw_targets
    from ..video import CameraSource, VideoWriter

    predictions = []
    writer = VideoWriter(args.render, source.fps, source.size) if args.render else None
    try:
        with tqdm(total=source.num_frames, unit="frame", desc=args.tracker, disable=None, file=sys.stderr) as bar:
            try:
                for index, frame in enumerate(source):
                    try:
                        if index == 0:
                            tracker.initialize_many(frame, boxes)
                            preds = [Prediction(box, 1.0, True) for box in boxes]  # the (clipped) given boxes
                        else:
                            preds = tracker.track_many(frame)
                    except LongtrackError:
                        raise
                    except Exception as exc:  # noqa: BLE001 - a tracker outside BaseTracker: still one line
                        raise TrackerError(args.tracker, index, exc) from exc
                    predictions.append(preds)
                    if writer is not None:
                        writer.write(draw_prediction(frame, preds[0], frame_index=index) if len(preds) == 1
                                     else draw_targets(frame, preds, frame_index=index))
                    bar.update(1)
            except KeyboardInterrupt:
                if not isinstance(source, CameraSource):
                    raise
        if writer is not None:
            if predictions:
                writer.close()
            else:
                writer.abort()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return predictions
