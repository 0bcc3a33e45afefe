"""An ``isaaclab:`` task's env: Isaac Lab's own env (``gym.make(<id>, cfg=...)``) in Isaac Lab's kitless launch,
with the config :func:`.configs.build_env_cfg` resolved.

It speaks this package's env contract as Isaac Lab 3.0 does: ``{"policy": obs}`` tensors, finished envs reset
inside ``step()``, and (``compute_final_obs``) their pre-reset observation in ``extras["final_obs"]``, which the SB3
wrapper hands on as ``terminal_observation``.

Rendering is Isaac Lab's own: :meth:`IsaacLabEnv.set_render_interval` sets how often its ``step()`` renders its
sim (``sim.render_interval``, ``render_enabled``), and ``render_mode="rgb_array"`` (``--video``) draws frames with
its headless Newton GL visualizer over its Newton model (kitless, no RTX camera needed).
"""

from __future__ import annotations

import contextlib
import sys
import traceback
from typing import Any

import gymnasium as gym
import numpy as np

from isaaclab_trainer.envs.render import GL_PACKAGES, VIDEO_ENVS, VIDEO_SIZE
from isaaclab_trainer.utils import ConfigError

from .configs import LAUNCH_ARGS, build_env_cfg
from .env_cfg import IsaacLabEnvCfg

#: what ``render_mode`` can be: None, or ``rgb_array`` (frames from :func:`add_video_visualizer`'s visualizer)
RENDER_MODES = (None, "rgb_array")
#: ``sim.render_interval`` that no run's physics step count reaches: Isaac Lab's ``step()`` renders every
#: ``render_interval`` physics steps, so this one never
NEVER = sys.maxsize


def add_video_visualizer(env_cfg: Any) -> None:
    """Put Isaac Lab's Newton GL visualizer, headless, in ``env_cfg`` as the frame source of videos: it draws the
    first :data:`VIDEO_ENVS` envs of Isaac Lab's Newton model offscreen (EGL) from the task's own camera
    (``sim.default_visualizer_cfg``), on demand only (a headless visualizer does not render every step), and
    the model is built with its visual shapes."""
    from isaaclab_visualizers.newton import NewtonGLVisualizerCfg

    width, height = VIDEO_SIZE
    viz = NewtonGLVisualizerCfg(
        headless=True,
        window_width=width,
        window_height=height,
        max_visible_envs=VIDEO_ENVS,
        randomly_sample_visible_envs=False,
    )
    configured = env_cfg.sim.visualizer_cfgs
    env_cfg.sim.visualizer_cfgs = [*(configured if isinstance(configured, list) else [configured]), viz]
    env_cfg.sim.physics.load_visual_shapes = True


class NewtonView:
    """What the browser panel's 3-D view draws of an Isaac Lab env on Newton: Isaac Lab's Newton model and its
    current state (``NewtonManager``). Isaac Lab's cloner places every env's bodies at their world positions, so the
    view adds no offsets (``env_origins`` all zero)."""

    def __init__(self, num_envs: int):
        self.env_origins = np.zeros((num_envs, 3), dtype=np.float32)

    @property
    def model(self) -> Any:
        from isaaclab_newton.physics.newton_manager import NewtonManager

        return NewtonManager.get_model()

    @property
    def state(self) -> Any:
        from isaaclab_newton.physics.newton_manager import NewtonManager

        return NewtonManager.get_state_0()


def _plain(value: Any) -> Any:
    """A config value as JSON holds it (tuples as lists, dicts kept, anything else as text)."""
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def observation_names(env: Any, dim: int) -> tuple[str, ...]:
    """The policy group's columns, ``<term>[<i>]`` per observation term of a manager-based env; a direct env's
    ``obs[<i>]``."""
    manager = getattr(env, "observation_manager", None)
    if manager is None:
        return tuple(f"obs[{i}]" for i in range(dim))
    names = []
    for term, shape in zip(manager.active_terms["policy"], manager.group_obs_term_dim["policy"], strict=True):
        names += [f"{term}[{i}]" for i in range(int(np.prod(shape)))]
    return tuple(names)


def action_terms(env: Any, dim: int) -> list[tuple[str, Any]]:
    """``(column, action term)`` per action column: ``<term>:<joint>`` where the term drives joints, else
    ``<term>[<i>]``; a direct env's ``action[<i>]`` with no term."""
    manager = getattr(env, "action_manager", None)
    if manager is None:
        return [(f"action[{i}]", None) for i in range(dim)]
    columns = []
    for name, size in zip(manager.active_terms, manager.action_term_dim, strict=True):
        term = manager.get_term(name)
        joints = list(getattr(term, "_joint_names", []))
        labels = [f"{name}:{j}" for j in joints] if len(joints) == size else [f"{name}[{i}]" for i in range(size)]
        columns += [(label, term) for label in labels]
    return columns


def action_metadata(env: Any) -> dict[str, Any]:
    """Each action term's class and its config's scale / offset / clip (a manager-based env); a direct env applies
    actions in its own ``_apply_action``."""
    manager = getattr(env, "action_manager", None)
    if manager is None:
        return {"applied_by": f"{type(env).__name__}._apply_action (a direct env)"}
    terms = {}
    for name in manager.active_terms:
        term = manager.get_term(name)
        terms[name] = {
            "type": type(term).__name__,
            **{k: _plain(getattr(term.cfg, k)) for k in ("scale", "offset", "clip") if hasattr(term.cfg, k)},
        }
    return {"applied_by": "Isaac Lab's action manager", "terms": terms}


def _no_video_line(why: str) -> str:
    """The one line for a ``--video`` that Isaac Lab's headless Newton GL visualizer cannot draw."""
    return (
        f"--video: Isaac Lab's headless Newton GL visualizer is not running ({why}); videos need OpenGL through EGL: "
        f"install the Debian packages {' '.join(GL_PACKAGES)}"
    )


def _raised_in_pyglet(exc: BaseException) -> bool:
    """Whether ``exc`` came out of pyglet, which opens the visualizer's OpenGL context through EGL."""
    frames = traceback.walk_tb(exc.__traceback__)
    return any(frame.f_globals.get("__name__", "").startswith("pyglet.") for frame, _ in frames)


class IsaacLabEnv(gym.Wrapper):
    """Isaac Lab's env of ``cfg.task``; ``unwrapped`` is Isaac Lab's ``ManagerBasedRLEnv`` / ``DirectRLEnv``."""

    def __init__(self, cfg: IsaacLabEnvCfg, render_mode: str | None = None, stage: Any = None):
        if stage is not None:
            raise ConfigError(f"isaaclab:{cfg.task} builds its own scene; it cannot be given a USD stage")
        from isaaclab.app.sim_launcher import launch_simulation

        if render_mode not in RENDER_MODES:
            raise ValueError(f"render_mode must be one of {RENDER_MODES}, got {render_mode!r}")
        env_cfg = build_env_cfg(cfg)  # checked there, Kit needs included
        if render_mode == "rgb_array":
            add_video_visualizer(env_cfg)
        self._launch = contextlib.ExitStack()
        self._launch.enter_context(launch_simulation(env_cfg, dict(LAUNCH_ARGS)))
        try:
            # its EnvSpec, not its id: gymnasium resolves an unversioned id to a versioned one of the same name
            # (``Isaac-Cartpole`` to this package's ``Isaac-Cartpole-v0``)
            # Isaac Lab 3.0's own rgb_array mode is deprecated and returns no frame: render() below draws them
            env = gym.make(gym.registry[cfg.task], cfg=env_cfg)
        except BaseException as exc:
            self._launch.close()
            if render_mode == "rgb_array" and _raised_in_pyglet(exc):  # the visualizer found no OpenGL context
                raise ConfigError(_no_video_line(f"{type(exc).__name__}: {exc}")) from exc
            raise
        super().__init__(env)
        self.cfg = cfg
        self._render_mode = render_mode
        if render_mode == "rgb_array":
            if self._video_visualizer() is None:  # said before any run folder is made, not at the first frame
                self.close()
                raise ConfigError(_no_video_line("see Isaac Lab's log above"))
            width, height = VIDEO_SIZE
            print(
                f"[INFO] Video: 3-D, first {min(cfg.num_envs, VIDEO_ENVS)} env(s), {width}x{height}, Isaac Lab's "
                "Newton GL visualizer (headless, OpenGL through EGL) over its Newton model",
                flush=True,
            )
        #: the panel's 3-D view of the Newton model (``ui/browser.py``'s ``newton_backend``)
        self.backend = NewtonView(cfg.num_envs)
        obs_space = self.unwrapped.single_observation_space["policy"]
        #: the policy's observation and action columns, as this package's env classes name theirs (export.py)
        self.observation_dim = int(obs_space.shape[0])
        self.observation_names = observation_names(self.unwrapped, self.observation_dim)
        self.observation_units: tuple[str, ...] = ()  # Isaac Lab's observation terms do not record units
        self.action_dim = int(self.unwrapped.single_action_space.shape[0])
        self.action_names = tuple(name for name, _ in action_terms(self.unwrapped, self.action_dim))
        # read while the managers exist (closing the env deletes them)
        self._action_metadata = action_metadata(self.unwrapped)
        self._control = {
            "step_dt": float(self.unwrapped.step_dt),
            "sim_dt": float(self.unwrapped.physics_dt),
            "decimation": int(self.unwrapped.cfg.decimation),
        }

    @property
    def render_mode(self) -> str | None:  # type: ignore[override] - this wrapper's, not Isaac Lab's env's
        return self._render_mode

    def render(self) -> Any:
        """An RGB frame of the first envs (``render_mode="rgb_array"``), drawn by Isaac Lab's headless Newton GL
        visualizer from the sim's current state; else None."""
        if self._render_mode != "rgb_array":
            return None
        viz = self._video_visualizer()
        if viz is None:  # Isaac Lab removed it after a failed step and logged why
            raise RuntimeError(_no_video_line("see Isaac Lab's log above"))
        self.unwrapped.sim.forward()  # body poses from the current joint state, as Isaac Lab's own VideoRecorder does
        return viz.render_rgb_array()

    def _video_visualizer(self) -> Any:
        """Isaac Lab's running headless Newton GL visualizer (:func:`add_video_visualizer`'s); None if it has none."""
        visualizers = self.unwrapped.sim.visualizers
        return next((v for v in visualizers if v.cfg.visualizer_type == "newton_gl" and v.cfg.headless), None)

    def set_render_interval(self, env_steps: int | None) -> None:
        """Render Isaac Lab's sim once every ``env_steps`` env steps, never for None: its ``step()`` renders every
        ``sim.render_interval`` physics steps (``decimation`` of them make one env step) while ``sim.is_rendering``
        (a GUI, an RTX sensor or a visualizer that renders continuously), which steps its visualizers (Newton,
        Rerun, Viser) and render callbacks. ``render_enabled`` stays False: Isaac Lab's step then pumps no Kit app
        update (Kit visualizer, RTX cameras) from inside the session's frame; the app's own loop draws Kit."""
        env = self.unwrapped
        env.render_enabled = False
        env.cfg.sim.render_interval = NEVER if env_steps is None else int(env_steps) * int(env.cfg.decimation)

    def action_metadata(self, cfg: IsaacLabEnvCfg) -> dict[str, Any]:
        """What Isaac Lab does with a policy action before the physics sees it (``cfg``, the run's, is already
        built into this env): see :func:`action_metadata`."""
        return self._action_metadata

    def control(self) -> dict[str, float]:
        """The policy's step and the physics step, in seconds, and the physics steps per policy step."""
        return dict(self._control)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._launch.close()
