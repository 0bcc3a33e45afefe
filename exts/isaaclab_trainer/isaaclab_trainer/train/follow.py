"""Following a run that another process writes: its newest checkpoint, polled at a low rate.

Checkpoints are renamed into place whole (:func:`~.callbacks.save_checkpoint`), so a file that
matches a checkpoint name is complete; each one is still checked (:func:`~.checks.check_checkpoint`)
against the task before it is offered. "Newer" means written later: a periodic ``model_<N>_steps.zip``,
the final ``model.zip`` or a rewritten ``model_best.zip``. :class:`CheckpointFollower` watches and loads
on a thread of its own, so a loop that plays only swaps in a policy that is ready.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from isaaclab_trainer.utils import one_line

from .checks import Checkpoint, UsageError, check_checkpoint
from .runs import is_run_dir, run_checkpoints, run_state

logger = logging.getLogger(__name__)

#: seconds between two looks into the run folder (one ``scandir``)
POLL_PERIOD_S = 0.5
T = TypeVar("T")


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


@dataclass(frozen=True)
class Loaded(Generic[T]):
    """A checkpoint the follower loaded, and when (``time.time()``) it was found and loaded."""

    checkpoint: Checkpoint
    value: T
    found_at: float
    loaded_at: float


class CheckpointFollower(Generic[T]):
    """A :class:`CheckpointWatch` polled on a thread of its own, each new checkpoint loaded there by ``load``.

    The thread that plays takes the newest loaded one (:meth:`take`) and swaps it in; neither the look into
    the folder nor the load (a checksum of the zip, two agents built: ~0.1 s, more under load) holds up
    its frames. ``load`` must not touch what that thread steps; a :class:`~.checks.UsageError` it raises
    is kept in :attr:`problem` and the checkpoint skipped. ``prepare`` runs on the thread first (one-time
    costs of the first load, paid before a checkpoint waits on them).
    """

    def __init__(
        self, watch: CheckpointWatch, load: Callable[[Checkpoint], T], prepare: Callable[[], None] | None = None
    ) -> None:
        self.watch = watch
        self._load = load
        self._prepare = prepare
        self._lock = threading.Lock()
        self._ready: Loaded[T] | None = None
        #: the one-line reason the newest checkpoint was refused, if it was
        self.problem: str | None = None
        #: the run folder was deleted (the thread has ended)
        self.deleted = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="isaaclab-checkpoint-follower", daemon=True)
        self._thread.start()

    def take(self) -> Loaded[T] | None:
        """The newest checkpoint loaded since the last call, or None."""
        with self._lock:
            ready, self._ready = self._ready, None
        return ready

    def close(self) -> None:
        """Stop the thread (a load in progress finishes; its result is dropped)."""
        self._stop.set()

    def _run(self) -> None:
        if self._prepare is not None:
            try:
                self._prepare()
            except Exception as exc:  # noqa: BLE001 - only a head start: the first load meets the error itself
                logger.warning("Evaluate: preparing to load checkpoints failed", exc_info=exc)
        while not self._stop.is_set():
            try:
                found = self.watch.poll(force=True)
            except FileNotFoundError:
                self.deleted = True
                return
            if found is None:
                self.problem = self.watch.problem or self.problem
            else:
                self._offer(found)
            self._stop.wait(self.watch.period_s)

    def _offer(self, checkpoint: Checkpoint) -> None:
        found_at = time.time()
        try:
            value = self._load(checkpoint)
        except UsageError as exc:  # a network or statistics that do not fit this task
            self.problem = str(exc)
            return
        except Exception as exc:  # noqa: BLE001 - replaced or unreadable meanwhile: say so, go on watching
            logger.warning("Evaluate: loading %s failed", checkpoint.path, exc_info=exc)
            self.problem = f"checkpoint '{checkpoint.path}' could not be loaded: {one_line(exc)}"
            return
        self.problem = None
        with self._lock:
            if not self._stop.is_set():
                self._ready = Loaded(checkpoint, value, found_at, time.time())
