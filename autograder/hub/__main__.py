"""``python -m autograder.hub serve|setup`` (``scripts/dev.sh serve`` runs ``serve``)."""

import sys

from autograder.hub.demo import main

sys.exit(main())
