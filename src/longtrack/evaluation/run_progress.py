"""``longtrack eval``'s progress: two tqdm bars (sequences, frames) on a terminal; elsewhere (a
log file, a cluster job) one line per finished sequence."""
from __future__ import annotations

import sys

from ..datasets.sequence import Sequence


class RunBars:
    """Progress: two tqdm bars (sequences, frames) on a terminal; elsewhere (a log file, a
    cluster job) one line per finished sequence. ``show=False``: silent."""

    def __init__(self, label: str, todo: list[Sequence], skipped: int, show: bool):
        from tqdm import tqdm

        self._label, self._total = label, len(todo) + skipped
        bars = show and sys.stderr.isatty()
        self._lines = show and not bars
        self._seq = tqdm(total=self._total, initial=skipped, desc=f"{label}: sequences", unit="seq",
                         disable=not bars, position=0, file=sys.stderr)
        self._frames = tqdm(total=sum(len(s) for s in todo), desc=f"{label}: frames", unit="frame",
                            disable=not bars, position=1, leave=False, file=sys.stderr)
        self._finished = skipped

    def start(self, seq: Sequence | None) -> None:
        if seq is not None:
            self._seq.set_postfix_str(seq.name)

    def frames(self, count: int) -> None:
        self._frames.update(count)

    def drain(self, queue) -> None:
        import queue as queue_module

        while True:
            try:
                self._frames.update(queue.get_nowait())
            except queue_module.Empty:
                return

    def sequence_done(self, name: str, frames_seconds: tuple | None) -> None:
        self._seq.update(1)
        self._finished += 1
        if self._lines and frames_seconds is not None:
            frames, seconds = frames_seconds
            speed = f", {frames / seconds:.1f} frames/s" if seconds > 0 else ""
            print(f"{self._label}: {self._finished}/{self._total} sequences ({name}: {frames} frames{speed})",
                  file=sys.stderr, flush=True)

    def write(self, text: str) -> None:
        from tqdm import tqdm

        tqdm.write(text, file=sys.stderr)

    def close(self) -> None:
        self._frames.close()
        self._seq.close()
