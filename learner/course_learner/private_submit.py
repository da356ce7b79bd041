"""nbgrader's submit, with the submission private to the learner who made it.

nbgrader 0.9 leaves a submission's folder in the exchange's inbound world-writable (0777) and
its files world-readable, relying on an unguessable folder name in an inbound no learner can
list. On the hub each learner is their own Unix user and the instructor collects as root, so
``PrivateSubmit`` makes the folder 0700 and its files 0600: another learner can neither read nor
replace it even knowing its name. The Assignments tab uses it (``hub/etc/jupyter``:
``ExchangeFactory.submit``), and so does ``course submit``.
"""

from __future__ import annotations

import os

from nbgrader.exchange.default import ExchangeSubmit

__all__ = ["PrivateSubmit"]


class PrivateSubmit(ExchangeSubmit):
    def copy_files(self) -> None:
        super().copy_files()
        dest = os.path.join(self.inbound_path, self.assignment_filename)
        for root, dirs, files in os.walk(dest):
            for name in dirs:
                os.chmod(os.path.join(root, name), 0o700)
            for name in files:
                os.chmod(os.path.join(root, name), 0o600)
        os.chmod(dest, 0o700)
