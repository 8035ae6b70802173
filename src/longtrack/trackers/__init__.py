"""Online trackers: one file per method, each holding all temporal state around its model."""

# The default tracker of `longtrack demo` and `longtrack track`: the best-scoring tracker on the
# synthetic long-term test benchmark among those that ship weights (docs/benchmark.md).
DEFAULT_TRACKER = "classic-lt"
