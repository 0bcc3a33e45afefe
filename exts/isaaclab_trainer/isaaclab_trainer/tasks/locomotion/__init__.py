"""The locomotion tasks (Isaac Lab's ``isaaclab_tasks/core/locomotion``): one folder a robot, the shared env in
env.py, its config in env_cfg.py, shared terms in mdp.py."""

from __future__ import annotations

from .ant import SPECS as _ANT
from .humanoid import SPECS as _HUMANOID

SPECS = [*_ANT, *_HUMANOID]
