"""The panel's Runs list and Evaluate section, without Kit: their own model and their own state section.

:class:`RunsModel` keeps the selected task's runs (re-scanned at a low rate, :data:`SCAN_PERIOD_S`) and
the selection; :class:`~.view_model.PanelViewModel` composes it, forwards the Runs buttons to its own
actions (Load & Play, Resume, Export, Evaluate, TensorBoard) with the path chosen here, and puts the
:class:`RunsState` this model derives into ``PanelState.runs``. Front ends draw that section as is.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from isaaclab_trainer.session.status import EvaluationStatus
from isaaclab_trainer.train.checks import UsageError
from isaaclab_trainer.train.run_log import RunScanner, RunSummary, thin
from isaaclab_trainer.train.runs import BEST_MODEL, FINAL_MODEL, RUNNING

logger = logging.getLogger(__name__)

#: seconds between two scans of the runs on disk (a few ``stat`` calls per run; event files re-read only when grown)
SCAN_PERIOD_S = 2.0
#: which checkpoint of the selected run Play / Export take
CHECKPOINT_CHOICES: tuple[str, ...] = ("newest", "final", "best")
NO_VALUE = "-"


@dataclass(frozen=True)
class RunRow:
    """One line of the Runs list."""

    name: str
    path: str
    state: str
    #: ``"<name>  <state>  <timesteps> steps  last <r>  best <r>"``
    label: str


@dataclass(frozen=True)
class RunsState:
    """Everything the Runs and Evaluate sections show, as plain values."""

    rows: tuple[RunRow, ...] = ()
    #: index of the selected run in ``rows``, -1 when none
    selected: int = -1
    state_text: str = NO_VALUE
    timesteps_text: str = NO_VALUE
    last_return_text: str = NO_VALUE
    best_return_text: str = NO_VALUE
    checkpoints_text: str = NO_VALUE
    play_enabled: bool = False
    resume_enabled: bool = False
    export_enabled: bool = False
    evaluate_enabled: bool = False
    tensorboard_enabled: bool = False
    # Evaluate
    evaluating: bool = False
    #: the run Evaluate follows and the checkpoint it plays (``"model_16384_steps.zip"``)
    evaluated_run_text: str = NO_VALUE
    playing_text: str = NO_VALUE
    #: the stored step count of the checkpoint playing (None while waiting)
    playing_timesteps: int | None = None
    #: (checkpoint timesteps, mean play return) per evaluated checkpoint
    eval_curve: tuple[tuple[int, float], ...] = ()
    #: (timesteps, rollout mean return) of the evaluated (else selected) run, from its event files
    train_curve: tuple[tuple[int, float], ...] = ()


def format_return(value: float | None) -> str:
    return f"{value:.2f}" if value is not None and math.isfinite(value) else NO_VALUE


def run_label(run: RunSummary) -> str:
    return (
        f"{run.name}  {run.state}  {run.timesteps:,} steps  "
        f"last {format_return(run.last_return)}  best {format_return(run.best_return)}"
    )


def pick_checkpoint(run: RunSummary, which: str) -> Path:
    """The ``which`` checkpoint (:data:`CHECKPOINT_CHOICES`) of ``run``; UsageError naming what it has."""
    if which not in CHECKPOINT_CHOICES:
        raise UsageError(f"checkpoint choice '{which}' is unknown; choose one of: {', '.join(CHECKPOINT_CHOICES)}")
    wanted = {"newest": run.checkpoints[-1:], "final": (FINAL_MODEL,), "best": (BEST_MODEL,)}[which]
    found = [name for name in wanted if name in run.checkpoints]
    if not found:
        have = ", ".join(run.checkpoints) or "none yet"
        raise UsageError(f"run {run.name} has no {which} checkpoint (it has: {have})")
    return run.path / found[0]


class RunsModel:
    """The runs of a task on disk, newest first, and the one selected.

    The disk is read on a thread of its own (started by the first :meth:`refresh`, ended by :meth:`close`),
    every :data:`SCAN_PERIOD_S` or when woken: reading event files (and importing TensorBoard's reader)
    takes tens of milliseconds that the panel's frame loop, which trains, must not wait for. The loop
    only reads the latest list.

    Args:
        log_root: the folder that holds ``sb3/<task>/<run>`` (and ``ray/<task>/<sweep>/<trial>``).
    """

    def __init__(self, log_root: str | os.PathLike) -> None:
        self.log_root = log_root
        self._scanner = RunScanner()
        self._task: str | None = None
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        #: (task, its runs) of the latest scan, replaced whole by the scan thread
        self._latest: tuple[str | None, list[RunSummary]] = (None, [])
        self._selected: str | None = None  # by path: the list reorders as runs start
        self._scans = 0
        self._cached: tuple[tuple[Any, ...], RunsState] | None = None  # the last state and what it was made of

    def rescan(self) -> None:
        """Scan now (a run was just started or stopped here)."""
        self._wake.set()

    def close(self) -> None:
        """End the scan thread."""
        self._closed.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    @property
    def runs(self) -> list[RunSummary]:
        """The latest scan of the current task's runs (empty until the thread has scanned it)."""
        task, found = self._latest
        return found if task == self._task else []

    @property
    def selected(self) -> RunSummary | None:
        return next((r for r in self.runs if str(r.path) == self._selected), None)

    def select(self, name: str) -> RunSummary:
        """Select the run shown as ``name``; UsageError when the list has no such run."""
        for run in self.runs:
            if run.name == name or str(run.path) == name:
                self._selected = str(run.path)
                return run
        raise UsageError(f"run '{name}' is not in the list of {self._task or 'this task'}'s runs")

    def require_selected(self, action: str) -> RunSummary:
        run = self.selected
        if run is None:
            raise UsageError(f"{action}: select a run in the Runs list first")
        return run

    def _scan_loop(self) -> None:
        while not self._closed.is_set():
            task = self._task
            if task is not None:
                try:
                    found = self._scanner.scan(task, self.log_root)
                except OSError:  # the log root is unreadable or went away: an empty list
                    logger.exception("Isaac Lab panel: scanning the runs failed")
                    found = []
                except Exception:  # noqa: BLE001 - a broken event file must not end the scans
                    logger.exception("Isaac Lab panel: scanning the runs failed")
                    found = self.runs
                self._latest = (task, found)
                self._scans += 1
            self._wake.wait(SCAN_PERIOD_S)
            self._wake.clear()

    def _scan(self, task: str) -> None:
        if task != self._task:
            self._task = task
            self._wake.set()
        if self._thread is None and not self._closed.is_set():
            self._thread = threading.Thread(target=self._scan_loop, name="isaaclab-runs-scan", daemon=True)
            self._thread.start()

    def refresh(self, task: str, evaluation: EvaluationStatus | None, idle: bool) -> RunsState:
        """The section's state for ``task`` (rescanned at most every :data:`SCAN_PERIOD_S`); ``idle``: the
        panel runs nothing now, so a run can be played, resumed or evaluated."""
        self._scan(task)
        key = (self._scans, self._latest[0], self._task, self._selected, evaluation, idle)
        if self._cached is not None and self._cached[0] == key:  # most frames: nothing changed
            return self._cached[1]
        state = self._derive(evaluation, idle)
        self._cached = (key, state)
        return state

    def _derive(self, evaluation: EvaluationStatus | None, idle: bool) -> RunsState:
        rows = tuple(RunRow(r.name, str(r.path), r.state, run_label(r)) for r in self.runs)
        run = self.selected
        evaluated = None
        if evaluation is not None:
            evaluated = next((r for r in self.runs if str(r.path) == evaluation.run_dir), None)
        curve_run = evaluated or run
        state = _with_evaluation(
            RunsState(
                rows=rows,
                selected=self.runs.index(run) if run is not None else -1,
                train_curve=curve_run.curve if curve_run is not None else (),
            ),
            evaluation,
        )
        if run is None:
            return state
        has = bool(run.checkpoints)
        return dataclasses.replace(
            state,
            state_text=run.state,
            timesteps_text=f"{run.timesteps:,}",
            last_return_text=format_return(run.last_return),
            best_return_text=format_return(run.best_return),
            checkpoints_text=", ".join(run.checkpoints) or "none yet",
            play_enabled=has and idle,
            resume_enabled=has and idle and run.state != RUNNING,
            export_enabled=has,
            evaluate_enabled=idle,
            tensorboard_enabled=True,
        )


def _with_evaluation(state: RunsState, evaluation: EvaluationStatus | None) -> RunsState:
    """``state`` with the Evaluate section filled from the session's ``evaluation`` (unchanged when None)."""
    if evaluation is None:
        return state
    if evaluation.checkpoint is None:
        playing = "waiting for the first checkpoint" if evaluation.following else NO_VALUE
    else:
        playing = f"{evaluation.checkpoint} ({evaluation.checkpoint_timesteps or 0:,} timesteps)"
    return dataclasses.replace(
        state,
        evaluating=True,
        evaluated_run_text=Path(evaluation.run_dir).name + ("" if evaluation.following else " (deleted)"),
        playing_text=playing,
        playing_timesteps=evaluation.checkpoint_timesteps,
        eval_curve=thin(list(evaluation.points)),
    )
