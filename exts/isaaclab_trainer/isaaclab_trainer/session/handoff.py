"""Run SB3's ``learn()`` on the app loop's own thread, one frame's worth at a time.

SB3's ``learn()`` runs unmodified as a greenlet (a coroutine with its own stack) started on the
thread that calls ``TrainingSession.update()``. An env step is a plain call, so the stage and the
physics are only ever touched on that thread, and no thread hand-off is paid per step. The learner
gives control back to the loop (:meth:`LoopLearner.gate`) before a piece of work that would not fit
in what is left of the frame: an env step (also when the render mode's step allowance is spent),
a PPO gradient step (an optimizer hook between mini-batches) and the first gradient step after a
rollout, each kind with its own cost estimate; the end of training starts a fresh frame.
Checkpoints are written on a worker thread (:meth:`LoopLearner.off_loop`) while the learner waits,
frame by frame, for them.
``update()`` switches back in on the next frame. Pausing means not switching in; stopping lets the
learner run to its next env step, where it ends with
:class:`~isaaclab_trainer.train.trainer.TrainingInterrupted` (``model.zip`` is saved).
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import greenlet
import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import VecEnvObs, VecEnvStepReturn

from isaaclab_trainer.train.trainer import TrainingInterrupted

T = TypeVar("T")

# A piece's cost is estimated as a high quantile of its recent wall times, not their maximum: on a
# busy machine the OS preempts the loop thread mid-piece, and a gradient step that takes 4 ms idle
# now and then takes 25 ms (55 ms with a browser drawing the panel on the same cores); a maximum
# remembers such a piece and leaves room for one piece per frame. What the quantile misses shows as
# frames running past their planned stop, which later frames reserve (``late``, forgotten slowly).
# Measured in scripts/benchmarks/panel_path.py; docs/benchmarks.md, comparison 4.
#: the quantile of a kind's wall times its cost estimate tracks
COST_QUANTILE = 0.95
#: relative step of the quantile estimate per piece (up when a piece took longer, down otherwise)
COST_RATE = 0.1
#: how fast the frames' overshoot past their planned stop is forgotten (per frame)
LATE_DECAY = 0.999
#: the reserve a learner starts with, and the most it keeps, as fractions of the frame: a new run has
#: seen no overshoot yet, and a frame always keeps half of itself for work
FIRST_RESERVE, MAX_RESERVE = 0.25, 0.5


class LoopLearner:
    """SB3's learner as a greenlet on the loop thread: :meth:`run_frame` runs it for one frame."""

    def __init__(self, target: Callable[[], Any]):
        self._target = target
        self._learner: greenlet.greenlet | None = None
        self._loop: greenlet.greenlet | None = None
        self._deadline = 0.0
        self._steps_left: int | None = None
        self._fresh = False  # nothing run yet this frame: one piece always may, however long it was
        self._closed = False
        #: decaying maximum of how far frames ran past the point where they planned to stop (the OS
        #: preempting us mid-piece on a busy machine): later frames plan to stop that much earlier
        #: (:data:`FIRST_RESERVE` until a first frame is run, at most :data:`MAX_RESERVE`)
        self.late: float | None = None
        #: estimated seconds (the :data:`COST_QUANTILE` of recent ones) each kind of work takes from its
        #: gate to the next gate; a kind not measured yet is missing and runs only first in a frame
        self.cost: dict[str, float] = {}
        self._piece: str | None = None
        self._piece_t0 = 0.0
        self._learner_grad = True  # torch's grad mode is per thread: the learner keeps its own
        self.done = False
        self.result: Any = None

    # -- loop side -----------------------------------------------------------------------------------

    def run_frame(self, deadline: float, max_steps: int | None) -> None:
        """Run the learner until ``deadline`` (``perf_counter`` s) or ``max_steps`` env steps.

        Returns early when the learner ends (``done``); its exception is raised here.
        """
        if self.done:
            return
        started = time.perf_counter()
        if self.late is None:
            self.late = FIRST_RESERVE * (deadline - started)
        self._deadline = deadline - min(self.late, MAX_RESERVE * (deadline - started))
        self._steps_left, self._fresh = max_steps, True
        if self._learner is None:
            self._learner = greenlet.greenlet(self._run)
        self._learner.parent = self._loop = greenlet.getcurrent()
        loop_grad = torch.is_grad_enabled()
        torch.set_grad_enabled(self._learner_grad)
        try:
            self._learner.switch()
        except BaseException:
            self.done = True
            raise
        finally:
            torch.set_grad_enabled(loop_grad)
        self.late = max(time.perf_counter() - self._deadline, LATE_DECAY * self.late, 0.0)

    def close(self) -> None:
        """Let the learner run to its next env step, where it ends (``model.zip`` saved); call on the loop thread."""
        self._closed = True
        while not self.done:
            self.run_frame(time.perf_counter() + 3600.0, None)

    # -- learner side ----------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self.result = self._target()
        finally:
            self.done = True

    def gate(self, kind: str) -> None:
        """Called by the learner before a piece of ``kind`` work; yields to the loop until it fits a frame.

        ``kind`` is ``"reset"``, ``"step"`` or ``"eval"`` (env calls: they end the learner once stopped;
        ``"step"`` counts against the frame's step allowance, ``"eval"``, a step of the undrawn envs that
        measure ``model_best.zip``, does not), ``"update"`` (from the end of a rollout
        to the first gradient step: SB3's log dump and mini-batch shuffle make it several times a
        gradient step, so it keeps its own estimate), ``"grad"`` (a further gradient step) or
        ``"fresh"`` (what follows, the end of training, starts a fresh frame).
        """
        now = time.perf_counter()
        self._end_piece(now)
        if self._closed:
            if kind in ("reset", "step", "eval"):
                raise TrainingInterrupted("training stopped")
            return
        if kind == "fresh":
            self._yield()
            return
        while not self._fits(kind, now):
            self._yield()
            if self._closed:
                self.gate(kind)
                return
            now = time.perf_counter()
        if kind == "step" and self._steps_left is not None:
            self._steps_left -= 1
        self._piece, self._piece_t0, self._fresh = kind, now, False

    def off_loop(self, work: Callable[[], T]) -> T:
        """Run ``work`` (a save: it touches neither the stage nor the physics) on a worker thread.

        The learner waits for it until the frame's deadline, then lets the loop go on and waits
        again in the next frame, so a slow disk never stalls a frame. Nothing else runs the learner
        meanwhile, so the model it saves cannot change.
        """
        if self._closed or greenlet.getcurrent() is not self._learner:
            return work()
        piece = self._piece
        self._end_piece(time.perf_counter())  # the wait is no part of the piece's cost
        out: dict[str, Any] = {}

        def run() -> None:
            try:
                out["value"] = work()
            except BaseException as exc:
                out["error"] = exc

        worker = threading.Thread(target=run, name="isaaclab-trainer-save", daemon=True)
        worker.start()
        while True:
            # leave one interpreter switch interval: the worker may hold the GIL when the wait ends
            worker.join(max(0.0, self._deadline - sys.getswitchinterval() - time.perf_counter()))
            if not worker.is_alive():
                break
            self._yield()
        if piece is not None:
            self._piece, self._piece_t0 = piece, time.perf_counter()
        if "error" in out:
            raise out["error"]
        return out["value"]

    def _end_piece(self, now: float) -> None:
        """Move the running piece's kind's cost estimate toward its quantile (a streaming estimate)."""
        if self._piece is not None:
            took, estimate = now - self._piece_t0, self.cost.get(self._piece)
            if estimate is None:
                estimate = took
            elif took > estimate:
                estimate *= 1.0 + COST_RATE * COST_QUANTILE
            else:
                estimate *= 1.0 - COST_RATE * (1.0 - COST_QUANTILE)
            self.cost[self._piece] = estimate
            self._piece = None

    def _fits(self, kind: str, now: float) -> bool:
        if kind == "step" and self._steps_left is not None and self._steps_left <= 0:
            return False
        return self._fresh or now + self.cost.get(kind, math.inf) <= self._deadline

    def _yield(self) -> None:
        assert self._loop is not None
        self._learner_grad = torch.is_grad_enabled()
        self._loop.switch()


class FrameGateCallback(BaseCallback):
    """The learner's gates outside the env: PPO's gradient steps and the end of training."""

    def __init__(self, learner: LoopLearner):
        super().__init__()
        self.learner = learner
        self._hook: Any = None

    def _on_training_start(self) -> None:
        self._hook = self.model.policy.optimizer.register_step_post_hook(lambda *_: self.learner.gate("grad"))

    def _on_rollout_end(self) -> None:
        self.learner.gate("update")

    def _on_training_end(self) -> None:
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
        self.learner.gate("fresh")

    def _on_step(self) -> bool:
        return True


class LoopSteppedVecEnv(VecEnvWrapper):
    """A VecEnv whose ``reset`` and ``step`` pass the learner's frame gate first.

    ``on_step`` receives each step's infos (the session counts timesteps and episodes); ``step_kind``
    is the gate kind of a step (``"eval"`` for the envs that measure the best model).
    """

    def __init__(
        self,
        venv: VecEnv,
        learner: LoopLearner,
        on_step: Callable[[list[dict[str, Any]]], None],
        step_kind: str = "step",
    ):
        super().__init__(venv)
        self.learner = learner
        self.on_step = on_step
        self.step_kind = step_kind
        self._actions: np.ndarray | None = None

    def reset(self) -> VecEnvObs:
        self.learner.gate("reset")
        return self.venv.reset()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        self.learner.gate(self.step_kind)
        result = self.venv.step(self._actions)
        self.on_step(result[3])
        return result
