"""``omni.ext.IExt`` of Isaac Lab Trainer: "Window > Isaac Lab" menu, the dock window, the frame loop.

Each app update (Events 2.0 ``GLOBAL_EVENT_UPDATE``) runs the clicks queued by the browser panel, then
calls ``PanelViewModel.advance()``, which runs ``session.update()`` (the session's own per-frame time budget
of env steps) and reads the session's state and render mode; a change of the render mode is applied to the
viewport in that same frame. The panel state is derived (``PanelViewModel.refresh()``) only on the frames
that draw it: each view copies it into its widgets every frame, or every 5th in NO_RENDERING. An app update
that something inside that work runs (an env step or Isaac Lab's ``sim.reset()`` calling
``omni.kit.app.get_app().update()``, which Kit 110 runs in full, update events included) runs none of it:
``PanelViewModel.nested_tick()`` only lets a stepping session refuse it. ``on_shutdown`` undoes everything,
so the extension can be disabled and enabled again.

The setting ``exts."isaaclab_trainer".browser_port`` (-1: off) also serves the browser panel
(``ui/browser.py``) as a second view of the same view-model, for a headless Isaac Sim on a remote
machine; beyond loopback (``browser_host``) it requires a token (``browser_token``, new at every start
when empty), printed once inside the URL.
"""

from __future__ import annotations

from typing import Any

import carb
import carb.eventdispatcher
import carb.settings
import omni.ext
import omni.kit.app
import omni.kit.menu.utils
import omni.ui as ui
import omni.usd
from omni.kit.menu.utils import MenuItemDescription

from isaaclab_trainer.session.status import RenderMode, SessionState
from isaaclab_trainer.sim.backends.registry import AUTO
from isaaclab_trainer.train.runs import LOG_ROOT
from isaaclab_trainer.ui.access import LOOPBACK, browser_options, check_port, exposure_warning
from isaaclab_trainer.ui.actions import ActionQueue
from isaaclab_trainer.ui.view_model import PanelViewModel, SessionLike

from . import engines, render
from .backends import register_kit_backends
from .window import WINDOW_TITLE, TrainerWindow

MENU_ROOT = "Window"
LOG_ROOT_SETTING = "/exts/isaaclab_trainer/log_root"
BROWSER_SETTINGS = (
    "/exts/isaaclab_trainer/browser_port",
    "/exts/isaaclab_trainer/browser_host",
    "/exts/isaaclab_trainer/browser_token",
)
BROWSER_OFF = -1  # browser_port's value for "not served" (its default)

_instance: IsaacLabTrainerExtension | None = None


def get_instance() -> IsaacLabTrainerExtension | None:
    """The running extension (used by the Kit tests)."""
    return _instance


def make_live_session(**kwargs: Any) -> SessionLike:
    """Session factory for Kit: envs are authored into the open stage; ``auto`` means the engine Isaac Sim
    runs now (PhysX in 5.1; in 6.x often Newton). A chosen engine is switched to when the backend is built."""
    from isaaclab_trainer.session.session import TrainingSession

    if kwargs.get("backend", AUTO) == AUTO:
        kwargs["backend"] = engines.active_engine()
    return TrainingSession(stage=omni.usd.get_context().get_stage(), **kwargs)


class IsaacLabTrainerExtension(omni.ext.IExt):
    def on_startup(self, ext_id: str) -> None:
        global _instance
        self._ext_id = ext_id
        settings = carb.settings.get_settings()
        log_root = settings.get(LOG_ROOT_SETTING) or LOG_ROOT
        available = register_kit_backends()  # Isaac Sim's engines: physx; newton in 6.x
        self.view_model = PanelViewModel(
            session_factory=make_live_session,
            log_root=str(log_root),
            backends=(AUTO, *available),
            engine_fn=engines.active_engine,
        )
        self.window: TrainerWindow | None = None
        self._frame = 0
        self._applied_mode: RenderMode | None = None
        self._update_failed = False
        self._in_update = False  # an update event arriving while True was dispatched from inside _on_update
        self.actions = ActionQueue()  # clicks from the browser panel, run at the next update
        self.browser = self._serve_browser(*(settings.get(path) for path in BROWSER_SETTINGS))

        ui.Workspace.set_show_window_fn(WINDOW_TITLE, self._show_window)
        self._menu = [
            MenuItemDescription(
                name=WINDOW_TITLE, ticked=True, ticked_fn=self._is_visible, onclick_fn=self._toggle_window
            )
        ]
        omni.kit.menu.utils.add_menu_items(self._menu, MENU_ROOT)
        self._update_sub: Any = carb.eventdispatcher.get_eventdispatcher().observe_event(
            event_name=omni.kit.app.GLOBAL_EVENT_UPDATE,
            on_event=self._on_update,
            observer_name="isaaclab_trainer.kit.extension._on_update",
        )
        self._show_window(True)
        _instance = self

    # -- window & menu -------------------------------------------------------------------------

    def _show_window(self, visible: bool) -> None:
        if visible and self.window is None:
            self.window = TrainerWindow(self.view_model, visible=True)
            self.window.window.set_visibility_changed_fn(self._on_visibility_changed)
            self.window.apply(self.view_model.refresh())
        elif self.window is not None:
            self.window.visible = visible

    def _is_visible(self) -> bool:
        return self.window is not None and self.window.visible

    def _toggle_window(self) -> None:
        self._show_window(not self._is_visible())

    def _on_visibility_changed(self, _visible: bool) -> None:
        omni.kit.menu.utils.refresh_menu_items(MENU_ROOT)

    # -- browser panel -------------------------------------------------------------------------

    def _serve_browser(self, port: Any, host: Any, token: Any) -> Any:
        """The browser panel over this view-model when ``browser_port`` asks for it; None if off or refused."""
        try:
            if check_port(BROWSER_OFF if port is None else port, BROWSER_SETTINGS[0], off=BROWSER_OFF) == BROWSER_OFF:
                return None
            options = browser_options(port, str(host or LOOPBACK), str(token or "") or None, BROWSER_SETTINGS)
            if not options.loopback:
                carb.log_warn(f"[isaaclab_trainer] {exposure_warning(options.host, options.port)}")
            from isaaclab_trainer.ui.browser import BrowserPanel

            browser = BrowserPanel(
                self.view_model, self.actions.post, host=options.host, port=options.port, token=options.token
            )
        except Exception as exc:  # noqa: BLE001 - the dock window works without it; one line says why
            carb.log_error(f"[isaaclab_trainer] browser panel not served: {exc}")
            return None
        print(f"[isaaclab_trainer] Isaac Lab panel at {browser.url}", flush=True)
        return browser

    # -- frame loop ----------------------------------------------------------------------------

    def _on_update(self, _event: Any) -> None:
        if self._in_update:  # Kit runs an app update called from inside ours in full, this observer included
            self.view_model.nested_tick()
            return
        self._in_update = True
        try:
            self.actions.run_pending()
            frame = self.view_model.advance()
            if frame.render_mode != self._applied_mode:
                render.apply_render_mode(frame.render_mode)
                self._applied_mode = frame.render_mode
            if frame.render_mode == RenderMode.FULL_RENDERING and frame.state in (
                SessionState.TRAINING,
                SessionState.PLAYING,
            ):
                render.flush_physics_to_renderer(engines.active_engine())
            self._frame += 1
            mode = frame.render_mode
            to_window = self.window is not None and self.window.visible and self.window.due(self._frame, mode)
            to_browser = self.browser is not None and self.browser.due(self._frame, mode)
            if self.browser is not None:
                self.browser.draw(frame)
            if to_window or to_browser:  # the panel's state is derived only on frames that draw it
                state = self.view_model.refresh()
                if to_window and self.window is not None:
                    self.window.apply(state)
                if to_browser and self.browser is not None:
                    self.browser.apply(state)
            self._update_failed = False
        except Exception as exc:  # noqa: BLE001 - never break the app loop; log once per failure streak
            if not self._update_failed:
                carb.log_error(f"[isaaclab_trainer] panel update failed: {type(exc).__name__}: {exc}")
            self._update_failed = True
        finally:
            self._in_update = False

    # -- teardown ------------------------------------------------------------------------------

    def on_shutdown(self) -> None:
        global _instance
        _instance = None
        self._update_sub = None
        omni.kit.menu.utils.remove_menu_items(self._menu, MENU_ROOT)
        self._menu = []
        ui.Workspace.set_show_window_fn(WINDOW_TITLE, None)
        if self.browser is not None:
            self.browser.close()
            self.browser = None
        self.view_model.shutdown()
        if self._applied_mode not in (None, RenderMode.FULL_RENDERING):
            render.apply_render_mode(RenderMode.FULL_RENDERING)
        if self.window is not None:
            self.window.destroy()
            self.window = None
