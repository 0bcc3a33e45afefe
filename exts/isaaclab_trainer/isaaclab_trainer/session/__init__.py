"""Training on the app's update loop: :class:`TrainingSession` and what it reports."""

from .session import TrainingSession, latest_checkpoint
from .status import RenderMode, SessionState, SessionStatus

__all__ = ["RenderMode", "SessionState", "SessionStatus", "TrainingSession", "latest_checkpoint"]
