"""What a run folder says about its run: state, timesteps, returns and checkpoints, read cheaply and often.

Returns come from the run's TensorBoard event files through TensorBoard's own reader
(``EventAccumulator``), reloaded only when an event file grew: an accumulator reads new events
incrementally, so polling a run that trains costs one ``stat`` per file between its writes.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from .runs import checkpoint_steps, is_run_dir, list_runs, run_checkpoints, run_started, run_state

#: the scalar SB3 logs per rollout: mean return of the last 100 episodes
RETURN_TAG = "rollout/ep_rew_mean"
#: most points of a run's training curve kept for a plot (older points are thinned evenly)
CURVE_POINTS = 200


@dataclass(frozen=True)
class RunSummary:
    """One run folder as the Runs list shows it."""

    path: Path
    #: the folder's name; ``<sweep>/<trial>`` for a tune.py trial
    name: str
    state: str
    timesteps: int
    last_return: float | None
    best_return: float | None
    checkpoints: tuple[str, ...]
    #: (timesteps, rollout mean return), at most :data:`CURVE_POINTS` of them
    curve: tuple[tuple[int, float], ...] = field(default=(), repr=False)


def thin(points: list[tuple[int, float]], limit: int = CURVE_POINTS) -> tuple[tuple[int, float], ...]:
    """At most ``limit`` of ``points``, evenly spaced, the last one always kept."""
    if len(points) <= limit:
        return tuple(points)
    stride = len(points) / (limit - 1)
    return tuple(points[int(i * stride)] for i in range(limit - 1)) + (points[-1],)


class _EventReader:
    """One run's TensorBoard folder read incrementally by ``EventAccumulator``."""

    def __init__(self, folder: Path) -> None:
        from tensorboard.backend.event_processing.event_accumulator import SCALARS, EventAccumulator

        self.folder = folder
        self._acc = EventAccumulator(str(folder), size_guidance={SCALARS: 0})
        self._sizes: dict[str, int] = {}
        self.curve: list[tuple[int, float]] = []

    def update(self) -> None:
        """Reload when an event file appeared or grew since the last call."""
        sizes = {e.name: e.stat().st_size for e in os.scandir(self.folder) if "tfevents" in e.name}
        if sizes == self._sizes:
            return
        self._sizes = sizes
        self._acc.Reload()
        if RETURN_TAG in self._acc.Tags().get("scalars", ()):
            self.curve = [(int(e.step), float(e.value)) for e in self._acc.Scalars(RETURN_TAG)]


class RunScanner:
    """Summaries of a task's runs, newest first; event files are re-read only when they changed."""

    def __init__(self) -> None:
        self._readers: dict[Path, _EventReader] = {}

    def summary(self, run_dir: Path, name: str | None = None) -> RunSummary:
        """The summary of one run folder (raises OSError when it disappeared meanwhile)."""
        curve: list[tuple[int, float]] = []
        tb = sorted(p for p in run_dir.iterdir() if p.is_dir() and p.name.startswith("PPO_"))
        if tb:
            reader = self._readers.get(tb[-1])
            if reader is None:
                reader = self._readers[tb[-1]] = _EventReader(tb[-1])
            reader.update()
            curve = reader.curve
        finite = [v for _, v in curve if math.isfinite(v)]
        checkpoints = run_checkpoints(run_dir)
        steps = [s for s in (checkpoint_steps(p) for p in checkpoints) if s is not None]
        timesteps = max([curve[-1][0]] if curve else [0], default=0)
        timesteps = max([timesteps, *steps])
        return RunSummary(
            path=run_dir,
            name=name or run_dir.name,
            state=run_state(run_dir),
            timesteps=timesteps,
            last_return=finite[-1] if finite else None,
            best_return=max(finite) if finite else None,
            checkpoints=tuple(p.name for p in checkpoints),
            curve=thin(curve),
        )

    def scan(self, task: str, log_root: str | os.PathLike) -> list[RunSummary]:
        """Every run of ``task`` under ``log_root`` (train.py's and the panel's, and tune.py's trials), newest
        first; runs removed meanwhile are left out."""
        runs = task_runs(task, log_root)
        found = []
        for _, name, run_dir in sorted(runs, reverse=True):
            try:
                found.append(self.summary(run_dir, name))
            except OSError:
                continue
        folders = {run_dir for _, _, run_dir in runs}
        self._readers = {k: v for k, v in self._readers.items() if k.parent in folders}
        return found


def task_runs(task: str, log_root: str | os.PathLike) -> list[tuple[float, str, Path]]:
    """(start time, name, folder) of the runs of ``task``: ``sb3/<task>/<run>`` and ``ray/<task>/<sweep>/<trial>``."""
    runs = [(run_started(p), p.name, p) for p in list_runs(task, log_root)]
    sweeps = Path(log_root).resolve() / "ray" / task.split(":")[-1]
    if sweeps.is_dir():
        for sweep in (p for p in sweeps.iterdir() if p.is_dir()):
            trials = (p for p in sweep.iterdir() if is_run_dir(p))
            runs += [(run_started(p), f"{sweep.name}/{p.name}", p) for p in trials]
    return runs
