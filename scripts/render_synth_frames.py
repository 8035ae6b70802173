"""A contact sheet of one synthetic sequence: a grid of frames with the ground-truth box drawn.

    python scripts/render_synth_frames.py --preset lt-real --index 0 --out docs/images/synth-lt-real.png
        [--split test] [--seed S] [--size 480x360] [--source-root DIR] [--rows 2] [--cols 4] [--width 1600]

Frames are chosen to show the sequence's events: the first frame, then the middle of each event
(same-class distractors are in every frame), then evenly spread frames to fill the grid. Each
tile shows the ground-truth box (green; absent frames say why) and the frame number with the
events running at that frame. Tiles are scaled down to fit ``--width``.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from longtrack.fileio import atomic_path
from longtrack.synth import make_sequence, parse_size

# the order in which events earn a tile
_SHOWN = ("partial_occlusion", "full_occlusion", "out_of_view", "abrupt_motion", "appearance_drift",
          "illumination", "blur", "camera_shake")


def pick_frames(seq, count: int) -> list[int]:
    picks = [0]
    for kind in _SHOWN:
        for event in seq.events:
            if event["type"] == kind and len(picks) < count:
                if kind == "abrupt_motion":
                    middle = event["start"]  # the frame after the jump (and cut)
                elif kind == "out_of_view":
                    middle = (event["parameters"]["out_start"] + event["parameters"]["out_end"]) // 2
                else:
                    middle = (event["start"] + event["end"]) // 2
                picks.append(int(middle))
                break
    for i in np.linspace(0, len(seq) - 1, count + 2)[1:-1].astype(int):
        if len(picks) < count and int(i) not in picks:
            picks.append(int(i))
    return sorted(picks[:count])


def _label(tile: np.ndarray, text: str, bottom: bool) -> None:
    """White text on a dark strip along the tile's top or bottom edge."""
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1)
    y0 = tile.shape[0] - th - base - 6 if bottom else 0
    strip = tile[y0:y0 + th + base + 6, :tw + 8]
    strip[:] = strip // 3
    cv2.putText(tile, text, (4, y0 + th + 3), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)


def tile(seq, i: int, width: int) -> np.ndarray:
    """Frame ``i`` with its ground-truth box, scaled to ``width`` pixels, then labelled."""
    frame = seq.render(i).copy()
    if not seq.absent[i]:
        x, y, w, h = seq.boxes[i]
        cv2.rectangle(frame, (int(round(x)), int(round(y))), (int(round(x + w)) - 1, int(round(y + h)) - 1),
                      (0, 255, 0), 2 if width < seq.width else 1, cv2.LINE_AA)
    if width < seq.width:
        height = int(round(seq.height * width / seq.width))
        frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    running = [e["type"].replace("_", " ") for e in seq.events if e["start"] <= i < e["end"]]
    _label(frame, f"frame {i + 1}" + (": " + ", ".join(running) if running else ""), bottom=False)
    if seq.absent[i]:
        _label(frame, "ABSENT (" + ("out of view" if seq.out_of_view[i] else "fully occluded") + ")", bottom=True)
    return frame


def contact_sheet(seq, rows: int, cols: int, width: int) -> np.ndarray:
    gap = 4
    tile_width = min(seq.width, (width - (cols - 1) * gap) // cols)
    tiles = [tile(seq, i, tile_width) for i in pick_frames(seq, rows * cols)]
    h, w = tiles[0].shape[:2]
    sheet = np.full((rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap, 3), 255, np.uint8)
    for k, t in enumerate(tiles):
        r, c = divmod(k, cols)
        sheet[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = t
    return sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="lt-real")
    parser.add_argument("--split", default="test")
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--size", default=None, help="WxH (default: the preset's)")
    parser.add_argument("--source-root", default=None, help="lt-real only (default: ../shared/data/real-train)")
    parser.add_argument("--rows", type=int, default=2)
    parser.add_argument("--cols", type=int, default=4)
    parser.add_argument("--width", type=int, default=1600, help="largest width of the sheet in pixels")
    parser.add_argument("--out", required=True, help="PNG file to write")
    args = parser.parse_args()
    size = parse_size(args.size) if args.size else None
    seq = make_sequence(args.preset, args.split, args.index, size=size, seed=args.seed,
                        source_root=args.source_root)
    sheet = contact_sheet(seq, args.rows, args.cols, args.width)
    ok, png = cv2.imencode(".png", np.ascontiguousarray(sheet[:, :, ::-1]))
    if not ok:
        raise SystemExit("PNG encoding failed")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        tmp.write_bytes(png.tobytes())
    print(f"{seq.name} ({seq.preset}, seed {seq.seed}): wrote {out}")


if __name__ == "__main__":
    main()
