"""The headless app ``panel.py`` runs: one view-model, its own frame loop, the browser panel as its view.

Kit's contract is kept: one loop thread (:meth:`BrowserApp.run_loop`) advances the view-model once per
frame (~60 Hz) and is the only thread that touches the session, the physics and the 3-D view. Clicks
arrive on viser's threads and are queued to that loop (:class:`ActionQueue`, as the Kit extension
queues them to Kit's update loop); :class:`LoopBoundSession` refuses any other caller. Sessions are
built on the Newton engine without a USD stage (Isaac Sim is not running).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from isaaclab_trainer.session.status import SessionState
from isaaclab_trainer.sim.backends.registry import NEWTON
from isaaclab_trainer.tasks import DEFAULT_TASK
from isaaclab_trainer.train.runs import LOG_ROOT
from isaaclab_trainer.ui.access import LOOPBACK
from isaaclab_trainer.ui.actions import ActionQueue
from isaaclab_trainer.ui.view_model import PanelState, PanelViewModel, SessionLike

logger = logging.getLogger(__name__)

FPS = 60.0
#: the engine this app builds on (Newton's viewer draws it)
BACKEND = NEWTON


class LoopBoundSession:
    """A session that only the app's loop thread may use; a call from any other thread raises.

    Every caller's thread id is kept in :attr:`caller_threads`, so a test can check who called.
    """

    def __init__(self, session: SessionLike, loop_thread: int) -> None:
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_loop_thread", loop_thread)
        object.__setattr__(self, "caller_threads", set())

    def __getattr__(self, name: str) -> Any:
        caller = threading.get_ident()
        self.caller_threads.add(caller)
        if caller != self._loop_thread:
            raise RuntimeError(f"session.{name} used from thread {caller}, not the panel's loop thread")
        return getattr(self._session, name)


class BrowserApp:
    """The view-model, the loop thread and the browser panel of ``panel.py``.

    Args:
        task, num_envs, seed: initial values of the Task fields (None: the task config's; for the seed the agent
            config's, else the task config's, as train.py).
        overrides: the Overrides field's first value: Isaac Lab-style ``key=value`` overrides of ``isaaclab:`` tasks.
        device: simulation device of the sessions it builds (None: the task config's).
        log_root: folder of ``sb3/<task>/<run>``.
        host, port, token: where the panel listens and the token it requires (``ui/access.py``).
        fps: loop frequency, as Kit's update event.
    """

    def __init__(
        self,
        task: str = DEFAULT_TASK,
        num_envs: int | None = None,
        seed: int | None = None,
        device: str | None = None,
        log_root: str = LOG_ROOT,
        host: str = LOOPBACK,
        port: int = 8080,
        token: str | None = None,
        fps: float = FPS,
        overrides: tuple[str, ...] = (),
    ) -> None:
        from isaaclab_trainer.ui.browser import BrowserPanel

        self.device = device
        self.period = 1.0 / fps
        self.actions = ActionQueue()
        self._stop = threading.Event()
        # set when the loop has ended. Waited on instead of Thread.join: a Ctrl+C that interrupts
        # join() can make CPython report the thread as ended while it still runs
        self._ended = threading.Event()
        self._thread: threading.Thread | None = None
        self.loop_thread_id: int | None = None
        self.sessions: list[LoopBoundSession] = []
        self.frames = 0
        self._failing = False
        #: ``model.zip`` written when the app closed during training (Ctrl+C), else None
        self.saved_model: str | None = None
        self.vm = PanelViewModel(
            session_factory=self._make_session,
            log_root=log_root,
            backends=(BACKEND,),
            engine_fn=lambda: BACKEND,
            overrides=overrides,
        )
        if task in self.vm.tasks:
            self.vm.on_task_changed(task)
        self.view = BrowserPanel(
            self.vm, self.actions.post, host=host, port=port, token=token, num_envs=num_envs, seed=seed
        )

    @property
    def last_state(self) -> PanelState | None:
        """The state the widgets show now (safe to read from any thread: a frozen snapshot)."""
        return self.view.last_state

    @property
    def url(self) -> str:
        return self.view.url

    @property
    def scene_frames(self) -> int:
        return self.view.scene_frames

    def post(self, action: Callable[[], Any]) -> None:
        """Queue ``action`` for the loop thread (callable from any thread)."""
        self.actions.post(action)

    def _make_session(self, **kwargs: Any) -> SessionLike:
        from isaaclab_trainer.session.session import TrainingSession

        assert self.loop_thread_id is not None
        session = LoopBoundSession(TrainingSession(device=self.device, **kwargs), self.loop_thread_id)
        self.sessions.append(session)
        return session  # type: ignore[return-value]

    # -- the loop -------------------------------------------------------------------------------

    def start(self) -> None:
        """Run the loop on a thread of its own."""
        self._thread = threading.Thread(target=self.run_loop, name="isaaclab-panel-loop", daemon=True)
        self._thread.start()

    def run_loop(self) -> None:
        """Run :meth:`frame` once per period until :meth:`close`; closes the session on the way out."""
        self.loop_thread_id = threading.get_ident()
        next_frame = time.perf_counter()
        try:
            while not self._stop.is_set():
                self.frame()
                next_frame += self.period
                delay = next_frame - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                else:
                    next_frame = time.perf_counter()
        finally:
            try:
                self._shutdown()
            finally:
                self._ended.set()

    def _shutdown(self) -> None:
        """Close the session on the loop thread: a run in progress stops and saves ``model.zip``."""
        session = self.vm.session
        was_training = session is not None and session.status.state in (SessionState.TRAINING, SessionState.PAUSED)
        self.vm.shutdown()
        if session is not None and was_training:
            self.saved_model = session.status.last_checkpoint

    def frame(self) -> None:
        """One app frame on the loop thread: queued clicks, ``advance``, the 3-D view, the widgets (``refresh``) on
        the frames that draw them, as the Kit extension's update."""
        self.actions.run_pending()
        self.frames += 1
        try:  # the one guard that keeps the loop alive, logging once per failure streak (as Kit's)
            frame = self.vm.advance()
            self.view.draw(frame)
            if self.view.due(self.frames, frame.render_mode):  # the panel's state is derived only when drawn
                self.view.apply(self.vm.refresh())
            self._failing = False
        except Exception:  # noqa: BLE001
            if not self._failing:
                logger.exception("Isaac Lab panel: frame failed")
            self._failing = True

    # -- lifetime -------------------------------------------------------------------------------

    def is_running(self) -> bool:
        """True from :meth:`start` until the loop has ended."""
        return self._thread is not None and not self._ended.is_set()

    def wait(self, timeout: float) -> None:
        """Block up to ``timeout`` s or until the loop ends (lets Ctrl+C reach the main thread)."""
        if self._thread is not None:
            self._ended.wait(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Stop the loop (which closes the session: training stops and ``model.zip`` is saved), then the server."""
        self._stop.set()
        if self._thread is not None:
            self._ended.wait(timeout)
        self.view.close()
