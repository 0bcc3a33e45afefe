"""Isaac Lab Trainer: train Stable-Baselines3 agents on Isaac Lab-style tasks, in Isaac Sim or headless.

Importing the package registers its tasks with gymnasium. The Kit shell lives in
``isaaclab_trainer.kit`` and is only imported inside Isaac Sim.
"""

from .tasks import register_tasks, registered_tasks

__version__ = "0.1.0"

register_tasks()

__all__ = ["__version__", "register_tasks", "registered_tasks"]
