"""The synthetic long-term world: procedural videos with exact ground truth (docs/synthetic.md).

    from longtrack.synth import make_sequence, write_lasot
    seq = make_sequence(preset="lt", split="test", index=0)   # deterministic
    frame = seq.render(10)                                     # (H, W, 3) uint8 RGB, any order
    seq.boxes, seq.absent, seq.full_occlusion, seq.out_of_view, seq.objects, seq.events
    write_lasot(seq, "out/")                                   # out/<class>/<class>-<n>/...
"""
from .lasot import write_lasot
from .presets import GENERATOR_VERSION, PRESETS, SPLITS, PresetConfig, Split, parse_size
from .sequence import SynthObject, SynthSequence, iter_sequences, make_sequence
from .source import SynthSource

__all__ = ["make_sequence", "iter_sequences", "write_lasot", "PRESETS", "SPLITS", "GENERATOR_VERSION",
           "PresetConfig", "Split", "SynthObject", "SynthSequence", "SynthSource", "parse_size"]
