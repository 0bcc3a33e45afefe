"""What a :class:`~isaaclab_trainer.session.TrainingSession` reports, and how much it renders.

Plain data, no Kit: the panel reads a :class:`SessionStatus` snapshot every frame.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class RenderMode(enum.IntEnum):
    """How much of the app is refreshed while the simulation runs (Isaac Lab's values).

    * ``NO_GUI_OR_RENDERING``: no GUI, no off-screen rendering (headless).
    * ``NO_RENDERING``: viewport frozen; only other UI is refreshed, at a lower rate.
    * ``PARTIAL_RENDERING``: UI and simulation cameras refreshed, viewport frozen.
    * ``FULL_RENDERING``: viewport, cameras and UI all refreshed.
    """

    NO_GUI_OR_RENDERING = -1
    NO_RENDERING = 0
    PARTIAL_RENDERING = 1
    FULL_RENDERING = 2


class SessionState(str, enum.Enum):
    """Life cycle of a session."""

    IDLE = "IDLE"
    BUILT = "BUILT"
    TRAINING = "TRAINING"
    PAUSED = "PAUSED"
    PLAYING = "PLAYING"
    DONE = "DONE"
    ERROR = "ERROR"


@dataclass(frozen=True)
class EvaluationStatus:
    """What Evaluate plays: the run followed, its checkpoint playing now and each played checkpoint's return."""

    run_dir: str
    #: file name and stored step count of the checkpoint playing now (None while waiting for the first)
    checkpoint: str | None = None
    checkpoint_timesteps: int | None = None
    #: (checkpoint timesteps, mean return of the episodes played with it), oldest first
    points: tuple[tuple[int, float], ...] = ()
    #: wall times (``time.time()``) of the current checkpoint: found by the watch, loaded, played first
    #: (switched to at an episode end after it was loaded); the parts of its delay, for the benchmark
    found_at: float | None = None
    loaded_at: float | None = None
    first_frame_at: float | None = None
    #: the run folder is still followed (False once it was deleted)
    following: bool = True


@dataclass(frozen=True)
class SessionStatus:
    """Snapshot of a session, safe to read from the UI thread."""

    state: SessionState = SessionState.IDLE
    task: str = ""
    num_envs: int = 0
    render_mode: RenderMode = RenderMode.FULL_RENDERING
    timesteps: int = 0
    total_timesteps: int = 0
    steps_per_second: float = 0.0
    mean_return: float | None = None
    return_history: tuple[float, ...] = field(default_factory=tuple)
    episodes: int = 0
    run_dir: str | None = None
    last_checkpoint: str | None = None
    #: the run's ``model_best.zip`` once saved, and its mean return without exploration noise
    best_checkpoint: str | None = None
    best_return: float | None = None
    message: str = ""
    error: str | None = None
    #: env steps that had a non-finite action, observation or reward (those envs were reset)
    faults: int = 0
    last_fault: str | None = None
    #: set while the session evaluates a run (:meth:`TrainingSession.evaluate`)
    evaluation: EvaluationStatus | None = None

    @property
    def progress(self) -> float:
        """Fraction of the training budget done, in ``[0, 1]``."""
        if self.total_timesteps <= 0:
            return 0.0
        return min(1.0, self.timesteps / self.total_timesteps)
