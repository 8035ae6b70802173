"""longtrack trackers inside the VOT toolkit (docs/vot.md).

* ``longtrack.vot.trax_server``: the TraX server the toolkit starts (``longtrack vot``, or
  ``python -m longtrack.vot.trax_server`` with the tracker named in ``LONGTRACK_TRACKER``).
* ``longtrack.vot.workspace``: writes a ready, offline VOT long-term workspace
  (``longtrack vot-workspace``).

Nothing is imported here: ``python -m longtrack.vot.trax_server`` must find its module unloaded.
"""
