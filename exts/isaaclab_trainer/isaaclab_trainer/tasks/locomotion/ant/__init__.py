"""Isaac-Ant-v0 (Isaac Lab 3.0: ``Isaac-Ant``): env class in ``env.py``, config in ``env_cfg.py``."""

from __future__ import annotations

from isaaclab_trainer.tasks.spec import TaskSpec

SPECS: list[TaskSpec] = []
