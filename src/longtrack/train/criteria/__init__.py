"""Training criteria: one file per method, each mapping ``(outputs, batch)`` to named losses
(``"loss"`` = the weighted total) and owning the weights."""
