"""The learners' hub on one machine: a real JupyterHub (``hub/jupyterhub_config.py``) with the
learner environment (``environment``), real Unix accounts (``accounts``), its settings file
(``settings``), starting it (``launch``) and the demo course (``demo``)."""

from autograder.hub.environment import DEFAULT_HUB_ENV, ensure_hub_env, ensure_node_modules

__all__ = ["DEFAULT_HUB_ENV", "ensure_hub_env", "ensure_node_modules"]
