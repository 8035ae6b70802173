"""``longtrack demo``: make a synthetic long-term clip, track it, write an annotated MP4 and the
per-frame results, and print the scores. Needs nothing but the package (no data, no weights
for the default tracker)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

DEMO_FPS = 30.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..trackers import DEFAULT_TRACKER

    parser.add_argument("--out", default="longtrack-demo", metavar="DIR",
                        help="folder for demo.mp4 and predictions.csv (default: ./longtrack-demo)")
    parser.add_argument("--tracker", default=DEFAULT_TRACKER,
                        help=f"tracker name (default: {DEFAULT_TRACKER}); see `longtrack trackers`")
    parser.add_argument("--weights", default=None, metavar="PATH", help="checkpoint (default: the shipped weights)")
    parser.add_argument("--device", default="cpu", help="torch device for learned trackers (default: cpu)")
    parser.add_argument("--preset", default="mini", choices=("mini", "st", "lt"),
                        help="synthetic preset of the clip (default: mini, about a minute on a laptop CPU)")
    parser.add_argument("--index", type=int, default=0,
                        help="which sequence of the preset's test split (default: 0; fixed seeds, same clip every run)")


def run(args: argparse.Namespace) -> int:
    import numpy as np
    from tqdm import tqdm

    from ..contract import Prediction
    from ..errors import LongtrackError
    from ..fileio import check_writable
    from ..predictions_io import write_predictions_csv
    from ..registry import get_tracker_spec
    from ..video import VideoWriter, draw_prediction

    if args.index < 0:
        raise LongtrackError(f"--index must be 0 or more, got {args.index}")
    spec = get_tracker_spec(args.tracker)
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise LongtrackError(f"--out {out_dir} is a file, expected a folder")
    video_path = check_writable(out_dir / "demo.mp4")
    csv_path = check_writable(out_dir / "predictions.csv")

    from ..evaluation.ope import ope_scores
    from ..evaluation.oxuva import presence_scores
    from ..synth import make_sequence

    started = time.perf_counter()
    seq = make_sequence(preset=args.preset, split="test", index=args.index)
    tracker = spec.build(weights=args.weights, device=args.device)
    gt = np.asarray(seq.boxes, dtype=np.float64)
    absent = np.asarray(seq.absent, dtype=bool)
    print(f"clip: {seq.name}, {len(seq)} frames of {seq.width}x{seq.height}, target absent in "
          f"{int(absent.sum())} frames; tracker: {args.tracker}", file=sys.stderr)

    predictions: list[Prediction] = []
    with VideoWriter(video_path, DEMO_FPS, (seq.width, seq.height)) as writer:
        for index in tqdm(range(len(seq)), unit="frame", desc=args.tracker, disable=None, file=sys.stderr):
            frame = seq.render(index)
            if index == 0:
                tracker.initialize(frame, gt[0])
                pred = Prediction(tuple(gt[0]), 1.0, True)
            else:
                pred = tracker.track(frame)
            predictions.append(pred)
            writer.write(draw_prediction(frame, pred, gt_box=None if absent[index] else gt[index],
                                         frame_index=index))
    write_predictions_csv(csv_path, predictions)
    elapsed = time.perf_counter() - started

    boxes = np.array([p.box for p in predictions], dtype=np.float64)
    present = np.array([p.present for p in predictions], dtype=bool)
    ope = ope_scores(boxes, gt, absent)
    presence = presence_scores(present, boxes, gt, absent)
    correct_presence = float(np.mean(present != absent))
    print(f"wrote {video_path} and {csv_path} in {elapsed:.1f} s")
    print(f"success AUC      {ope['success_auc']:.3f}   (LaSOT protocol: area under the IoU success curve)")
    print(f"precision        {ope['precision']:.3f}   (centre error <= 20 px)")
    print(f"norm. precision  {ope['norm_precision']:.3f}")
    print(f"presence TPR     {presence['tpr']:.3f}   (OxUvA: present and IoU >= 0.5, over visible frames)")
    print(f"presence TNR     {_fmt(presence['tnr'])}   (said absent, over {int(absent.sum())} absent frames)")
    print(f"presence accuracy {correct_presence:.3f}  (present flag equals visibility, all frames)")
    return 0


def _fmt(value: float) -> str:
    return "n/a" if value != value else f"{value:.3f}"
