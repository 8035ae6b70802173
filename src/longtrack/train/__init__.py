"""The training engine: YAML configs, methods, samplers over the synthetic world and datasets,
a thin loop with hooks, mixed precision, DDP under torchrun, atomic resumable checkpoints.

    from longtrack.train import train
    train("configs/procontext-synth.yaml", "runs/procontext")   # = longtrack train CONFIG --out DIR

docs/training.md is the guide and the config reference.
"""
from .config import TrainConfig, config_from_dict, config_to_dict, load_config
from .data import StreamBatchSampler, TrackingSamples, collate_samples
from .hooks import Hook
from .run import train
from .setup import TrainingSetup

__all__ = ["train", "TrainConfig", "load_config", "config_from_dict", "config_to_dict", "TrainingSetup",
           "TrackingSamples", "collate_samples", "StreamBatchSampler", "Hook"]
