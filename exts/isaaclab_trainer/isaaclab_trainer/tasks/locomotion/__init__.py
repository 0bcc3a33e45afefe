"""The locomotion tasks (Isaac Lab's ``isaaclab_tasks/core/locomotion``): one folder a robot, shared terms in mdp.py."""

from __future__ import annotations

from .ant import SPECS as _ANT

SPECS = [*_ANT]
