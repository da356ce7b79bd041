"""Shared pytest configuration.

Hypothesis profiles (select with ``HYPOTHESIS_PROFILE=<name>``; ``ci`` is the default):

* ``ci``: deterministic (``derandomize``), no deadline, a modest number of examples, so the
  suite is reproducible and fast on a 2-core runner.
* ``dev``: random seeds, same size: finds new counterexamples while developing.
* ``thorough``: random seeds, 20× the examples, for a long local hunt.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}
settings.register_profile("ci", max_examples=40, derandomize=True, **_COMMON)
settings.register_profile("dev", max_examples=40, **_COMMON)
settings.register_profile("thorough", max_examples=800, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
