"""Weights files as training writes them, loaded back by ``longtrack.create`` (the model tests)."""
import torch
from torch import nn

import longtrack
from longtrack.checkpoint import save_weights


def tracker_from_weights(tmp_path, method: str, model: nn.Module, model_config, frame_hw: tuple[int, int],
                         init_box: tuple[float, float, float, float]):
    """Saves ``model``'s state with ``{"model": model_config.to_dict()}``, builds ``method``'s
    tracker from the file, checks it holds the same tensors, and tracks one random frame from
    ``init_box``. Returns the tracker and its prediction."""
    path = save_weights(tmp_path / "w.pt", method=method, config={"model": model_config.to_dict()},
                        state_dict=model.state_dict())
    tracker = longtrack.create(method, weights=str(path))
    for name, tensor in model.state_dict().items():
        assert torch.equal(tracker.model.state_dict()[name], tensor), name
    frame = (torch.rand(*frame_hw, 3) * 255).to(torch.uint8).numpy()
    tracker.initialize(frame, init_box)
    return tracker, tracker.track(frame)
