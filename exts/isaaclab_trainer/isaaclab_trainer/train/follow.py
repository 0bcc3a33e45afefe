"""Following a run that another process writes: its newest checkpoint, polled at a low rate.

Checkpoints are renamed into place whole (:func:`~.callbacks.save_checkpoint`), so a file that
matches a checkpoint name is complete; each one is still checked (:func:`~.checks.check_checkpoint`)
against the task before it is offered. "Newer" means written later: a periodic ``model_<N>_steps.zip``,
the final ``model.zip`` or a rewritten ``model_best.zip``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from .checks import Checkpoint, UsageError, check_checkpoint
from .runs import is_run_dir, run_checkpoints, run_state

#: seconds between two looks into the run folder (one ``scandir``)
POLL_PERIOD_S = 0.5


def checkpoint_timesteps(checkpoint: Checkpoint) -> int:
    """The step count SB3 stored in the checkpoint (0 if absent)."""
    try:
        return int(checkpoint.data.get("num_timesteps", 0))
    except (TypeError, ValueError):
        return 0


def check_run_dir(path: str | os.PathLike) -> Path:
    """``path`` if it is a run folder, else UsageError naming it and what is accepted."""
    run_dir = Path(path)
    if not run_dir.is_dir():
        raise UsageError(f"run folder '{path}' does not exist (accepted: a folder under logs/sb3/<task>/)")
    if not is_run_dir(run_dir):
        raise UsageError(
            f"'{path}' is not a run folder (no params/, command.txt or run_state.json inside; "
            "accepted: a folder train.py, tune.py or the panel wrote)"
        )
    return run_dir


class CheckpointWatch:
    """The checkpoints of ``run_dir`` as they land, for ``task``, each offered once, newest first."""

    def __init__(self, run_dir: str | os.PathLike, task: str, period_s: float = POLL_PERIOD_S) -> None:
        self.run_dir = check_run_dir(run_dir)
        self.task = task
        self.period_s = period_s
        self._seen: tuple[str, int] | None = None  # (name, mtime) of the newest file looked at
        self._next = 0.0
        #: the one-line reason the newest checkpoint was refused, if it was
        self.problem: str | None = None

    def finished(self) -> bool:
        """The run is no longer written (finished or interrupted)."""
        return run_state(self.run_dir) != "running"

    def poll(self, force: bool = False) -> Checkpoint | None:
        """A checked checkpoint written after the last one offered, at most every ``period_s`` (or ``force``).

        Raises FileNotFoundError when the run folder is gone. A newer file that fails the checks (another
        task, a damaged zip) is skipped and its reason kept in :attr:`problem`, as is a run that ended
        without any checkpoint.
        """
        now = time.monotonic()
        if not force and now < self._next:
            return None
        self._next = now + self.period_s
        if not self.run_dir.is_dir():
            raise FileNotFoundError(f"run folder '{self.run_dir}' was deleted")
        found = run_checkpoints(self.run_dir)
        if not found:
            if self.finished():
                self.problem = f"run {self.run_dir.name} ended without a checkpoint"
            return None
        newest = found[-1]
        try:
            key = (newest.name, newest.stat().st_mtime_ns)
        except FileNotFoundError:  # replaced between the scan and the stat: the next poll sees it
            return None
        if key == self._seen:
            return None
        self._seen = key
        try:
            checkpoint = check_checkpoint(newest, self.task)
        except UsageError as exc:
            self.problem = str(exc)
            return None
        self.problem = None
        return checkpoint
