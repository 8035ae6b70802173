"""UAV123 sub-sequences: ``name -> (video folder, first frame, last frame)``.

UAV123 cuts some long videos into several annotated sequences that share one image folder
(``data_seq/UAV123/<video>/``); these are the frame ranges of the benchmark's configuration
(the same numbers as got10k's uav123.json and pytracking's uavdataset.py). Every other UAV123
sequence uses its whole folder.
"""
from __future__ import annotations


def _ranges(video: str, bounds: list[tuple[int, int]]) -> dict[str, tuple[str, int, int]]:
    return {f"{video}_{k}": (video, first, last) for k, (first, last) in enumerate(bounds, start=1)}


UAV123_SUBSEQUENCES: dict[str, tuple[str, int, int]] = {
    **_ranges("bird1", [(1, 253), (775, 1477), (1573, 2437)]),
    **_ranges("car1", [(1, 751), (751, 1627), (1627, 2629)]),
    **_ranges("car16", [(1, 415), (415, 1993)]),
    **_ranges("car6", [(1, 487), (487, 1807), (1807, 2953), (2953, 3925), (3925, 4861)]),
    **_ranges("car8", [(1, 1357), (1357, 2575)]),
    **_ranges("group1", [(1, 1333), (1333, 2515), (2515, 3925), (3925, 4873)]),
    **_ranges("group2", [(1, 907), (907, 1771), (1771, 2683)]),
    **_ranges("group3", [(1, 1567), (1567, 2827), (2827, 4369), (4369, 5527)]),
    **_ranges("person12", [(1, 601), (601, 1621)]),
    **_ranges("person14", [(1, 847), (847, 1813), (1813, 2923)]),
    **_ranges("person17", [(1, 1501), (1501, 2347)]),
    **_ranges("person19", [(1, 1243), (1243, 2791), (2791, 4357)]),
    **_ranges("person2", [(1, 1189), (1189, 2623)]),
    **_ranges("person4", [(1, 1501), (1501, 2743)]),
    **_ranges("person5", [(1, 877), (877, 2101)]),
    **_ranges("person7", [(1, 1249), (1249, 2065)]),
    **_ranges("person8", [(1, 1075), (1075, 1525)]),
    **_ranges("truck4", [(1, 577), (577, 1261)]),
    **_ranges("uav1", [(1, 1555), (1555, 2377), (2473, 3469)]),
}
