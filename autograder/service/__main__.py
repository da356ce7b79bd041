"""``python -m autograder.service serve`` (what the hub starts: ``hub/jupyterhub_config.py``)."""

import sys

from autograder.service.cli import main

sys.exit(main())
