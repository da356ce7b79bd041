"""The attestation a graded notebook carries: proof that ``SandboxedAutograde`` graded it.

``SandboxedAutograde`` writes ``nb.metadata[ATTESTATION_KEY]`` (who graded, in which sandbox slot,
timings, the parts' scores and diagnoses); ``course grade`` refuses to record a notebook without
it, so a grade can never come from nbgrader's own, unsandboxed ``Execute``.
"""

__all__ = ["ATTESTATION_KEY", "GRADED_BY"]

ATTESTATION_KEY = "cryoem_course"

#: The ``graded_by`` value of a notebook graded in the sandbox (its last dotted component).
GRADED_BY = "SandboxedAutograde"
