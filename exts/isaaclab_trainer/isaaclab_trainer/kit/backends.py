"""Isaac Sim's engines as :class:`PhysicsBackend`: PhysX (5.1 and 6.x) and Newton (6.x), over the live stage.

Stepping approach (one owner of physics, never two):

* The trainer owns physics and leaves the **timeline stopped**. At construction it sets
  ``/app/player/playSimulations`` to False (restored by :meth:`close`), so no app update, and not a
  user pressing Play, steps the engine a second time.
* It makes its engine the active one (``kit.engines.use_engine``: Isaac Sim 6.x may have switched to
  Newton at startup), loads the stage into it like Isaac Sim's ``SimulationManager.initialize_physics``
  does, then creates ``omni.physics.tensors`` views on the live stage id.
* PhysX: ``force_load_physics_from_usd()``, ``start_simulation()``, ``update_simulation(dt, 0)``,
  ``fetch_results()`` (Isaac Lab 3.0's ``PhysxManager`` warm start, the same in Isaac Sim 5.1's
  ``SimulationManager``); each step ``simulate(dt, t)`` + ``fetch_results()`` on ``omni.physx``'s
  simulation interface. It does not depend on the timeline.
* Newton (Isaac Sim 6.x): the engine-neutral ``omni.physics.core`` interfaces in the order of 6.x's
  ``SimulationManager.initialize_physics`` (``force_load_physics_from_usd``, Newton's
  ``initialize_newton(device)``, ``start_simulation``), tensor views with ``backend="newton"``, each
  step ``simulate(dt, t)`` as ``SimulationManager.step`` does. Newton's stage steps only while its
  ``playing`` flag is set (its timeline PLAY handler sets it), so the backend sets it for its lifetime,
  as NVIDIA's own Newton tensor tests do with the timeline stopped.
* Both are called from the session's ``update()`` inside the app's update event (main thread).
* A timeline PLAY or STOP event makes the engine reload/reset the stage, after which tensor views are
  invalid; the backend marks itself invalid and :meth:`step` raises ``RuntimeError`` (the session
  reports it; press Build again).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import carb
import carb.settings
import omni.physics.tensors
import omni.physx
import omni.timeline
import omni.usd
import torch
from pxr import Usd

from isaaclab_trainer.sim.backends import register_backend
from isaaclab_trainer.sim.backends.base import PhysicsBackend, canonical_device
from isaaclab_trainer.sim.scene import env_origins

from . import engines

ROBOTS_PATTERN = "/World/envs/*/Robot"
PLAY_SIMULATIONS = "/app/player/playSimulations"


class KitTensorBackend(PhysicsBackend):
    """``num_envs`` robots at ``/World/envs/env_<i>/Robot`` in the live stage, simulated by :attr:`ENGINE`.

    ``engine_options`` (a task's Newton solver settings) are ignored: Isaac Sim's engines take theirs from
    the stage. Poses come back in each env's frame (the env prim's origin subtracted, as the Newton backend
    and Isaac Lab's ``root_pos_w - env_origins`` do).
    """

    #: the Isaac Sim engine this backend drives (``kit.engines`` name)
    ENGINE: str

    def __init__(
        self,
        stage: Usd.Stage,
        num_envs: int,
        physics_dt: float,
        device: str = "cpu",
        pattern: str = ROBOTS_PATTERN,
        **engine_options: Any,
    ) -> None:
        context = omni.usd.get_context()
        if context.get_stage() is None or context.get_stage() != stage:
            raise ValueError(
                f"{type(self).__name__} simulates Isaac Sim's open stage; pass omni.usd.get_context().get_stage()"
            )
        self._timeline = omni.timeline.get_timeline_interface()
        if self._timeline.is_playing():
            raise RuntimeError("stop the timeline (Stop button) before building: the trainer steps physics itself")
        engines.use_engine(self.ENGINE)

        self.num_envs = int(num_envs)
        self.physics_dt = float(physics_dt)
        self.device = canonical_device(device)
        self._time = 0.0
        self._view: Any = None
        self._robots: Any = None
        self._valid = True
        self._closed = False

        self._settings = carb.settings.get_settings()
        self._play_simulations = self._settings.get(PLAY_SIMULATIONS)
        self._settings.set(PLAY_SIMULATIONS, False)

        stream = self._timeline.get_timeline_event_stream()
        self._timeline_subs = [
            stream.create_subscription_to_pop_by_type(int(event), self._on_timeline_event)
            for event in (omni.timeline.TimelineEventType.PLAY, omni.timeline.TimelineEventType.STOP)
        ]

        try:
            self._view = self._load(context.get_stage_id())
            self._robots = self._view.create_articulation_view(pattern)
            if self._robots is None or self._robots.count != self.num_envs:
                found = 0 if self._robots is None else self._robots.count
                raise RuntimeError(f"expected {self.num_envs} articulations at {pattern!r}, found {found}")
        except Exception:
            self.close()
            raise

        self.joint_names = list(self._robots.shared_metatype.dof_names)
        self.body_names = list(self._robots.shared_metatype.link_names)
        self._sim_device = torch.device(str(self._view.device))
        envs = pattern.rsplit("/", 2)[0]
        origins = env_origins(stage, [f"{envs}/env_{i}" for i in range(self.num_envs)])
        self._origins = torch.as_tensor(origins, device=self.device)
        nd = len(self.joint_names)
        self._all = torch.arange(self.num_envs, dtype=torch.int32, device=self._sim_device)
        self._efforts = torch.zeros((self.num_envs, nd), dtype=torch.float32, device=self._sim_device)
        # effort limits (the USD drives' maxForce), read once
        self._max_forces = self._robots.get_dof_max_forces().to(self._sim_device, copy=True)

    # -- engine-specific -----------------------------------------------------------------------

    @abstractmethod
    def _load(self, stage_id: int) -> Any:
        """Load the stage into the engine and return an ``omni.physics.tensors`` simulation view."""

    @abstractmethod
    def _simulate(self) -> None:
        """Advance the engine by one :attr:`physics_dt` from :attr:`_time`."""

    def _release(self) -> None:  # noqa: B027 - optional hook
        """Undo engine state set by :meth:`_load` (called once by :meth:`close`)."""

    # -- events --------------------------------------------------------------------------------

    def _on_timeline_event(self, _event: object) -> None:
        if self._valid and not self._closed:
            carb.log_warn(f"[isaaclab_trainer] timeline Play/Stop: {self.ENGINE} views are now invalid; Build again")
        self._valid = False

    def _check(self) -> None:
        if self._closed:
            raise RuntimeError(f"{type(self).__name__} is closed")
        if not self._valid or not self._view.is_valid:
            raise RuntimeError(
                f"{self.ENGINE} simulation views are invalid (timeline Play/Stop or stage change); Build again"
            )

    # -- PhysicsBackend ------------------------------------------------------------------------

    def joint_pos(self) -> torch.Tensor:
        self._check()
        return self._robots.get_dof_positions().to(self.device, copy=True)

    def joint_vel(self) -> torch.Tensor:
        self._check()
        return self._robots.get_dof_velocities().to(self.device, copy=True)

    def set_joint_efforts(self, efforts: torch.Tensor) -> None:
        self._check()
        e = efforts.to(device=self._sim_device, dtype=torch.float32)
        self._efforts.copy_(torch.maximum(torch.minimum(e, self._max_forces), -self._max_forces))

    def write_joint_state(self, env_ids: torch.Tensor, pos: torch.Tensor, vel: torch.Tensor) -> None:
        self._check()
        r = self._robots
        self._write_rows(
            env_ids, (r.get_dof_positions, r.set_dof_positions, pos), (r.get_dof_velocities, r.set_dof_velocities, vel)
        )

    def _write_rows(self, env_ids: torch.Tensor, *fields: tuple[Any, Any, torch.Tensor]) -> None:
        """Write ``rows`` of each ``(getter, setter, rows)`` for ``env_ids``: the tensor API takes full
        ``(count, ...)`` buffers and applies the rows named by indices."""
        if env_ids.numel() == 0:
            return
        ids = env_ids.to(device=self._sim_device, dtype=torch.int64)
        indices = ids.to(torch.int32)
        for get, set_, rows in fields:
            full = get().clone()
            full[ids] = rows.to(device=self._sim_device, dtype=torch.float32)
            set_(full, indices)

    def joint_limits(self) -> torch.Tensor:
        self._check()
        return self._robots.get_dof_limits()[0].to(self.device, copy=True)

    def root_pose(self) -> torch.Tensor:
        self._check()
        pose = self._robots.get_root_transforms().to(self.device, copy=True)
        pose[:, :3] -= self._origins
        return pose

    def root_velocity(self) -> torch.Tensor:
        self._check()
        return self._robots.get_root_velocities().to(self.device, copy=True)

    def write_root_state(self, env_ids: torch.Tensor, pose: torch.Tensor, velocity: torch.Tensor) -> None:
        self._check()
        r = self._robots
        world = pose.to(self.device, copy=True)
        world[:, :3] += self._origins[env_ids.to(self.device)]  # the tensor API takes world poses
        self._write_rows(
            env_ids,
            (r.get_root_transforms, r.set_root_transforms, world),
            (r.get_root_velocities, r.set_root_velocities, velocity),
        )

    def body_poses(self) -> torch.Tensor:
        self._check()
        poses = self._robots.get_link_transforms().to(self.device, copy=True)
        poses[..., :3] -= self._origins.unsqueeze(1)
        return poses

    def body_incoming_wrenches(self) -> torch.Tensor:
        # in each link's incoming joint's child frame, which the assets here author as the body frame
        self._check()
        return self._robots.get_link_incoming_joint_force().to(self.device, copy=True)

    def step(self) -> None:
        self._check()
        # joint forces are written every physics step, like Isaac Lab's write_data_to_sim
        self._robots.set_dof_actuation_forces(self._efforts, self._all)
        self._simulate()
        self._time += self.physics_dt

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._timeline_subs = []
        view = self._view
        if view is not None:
            try:
                view.invalidate()
            except Exception as exc:  # noqa: BLE001 - best effort during teardown
                carb.log_warn(f"[isaaclab_trainer] invalidating the {self.ENGINE} view failed: {exc}")
        self._view = None
        self._robots = None
        self._release()
        self._settings.set(PLAY_SIMULATIONS, True if self._play_simulations is None else bool(self._play_simulations))


class PhysxBackend(KitTensorBackend):
    """PhysX through ``omni.physx`` (Isaac Sim 5.1 and 6.x)."""

    ENGINE = engines.PHYSX

    def _load(self, stage_id: int) -> Any:
        self._physx = omni.physx.get_physx_interface()
        self._sim = omni.physx.get_physx_simulation_interface()
        self._physx.force_load_physics_from_usd()
        self._physx.start_simulation()
        self._physx.update_simulation(self.physics_dt, 0.0)
        self._sim.fetch_results()
        return omni.physics.tensors.create_simulation_view("torch", stage_id=stage_id)

    def _simulate(self) -> None:
        self._sim.simulate(self.physics_dt, self._time)
        self._sim.fetch_results()


class NewtonBackend(KitTensorBackend):
    """Isaac Sim 6.x's Newton engine (``isaacsim.physics.newton``) through the engine-neutral ``omni.physics.core``."""

    ENGINE = engines.NEWTON

    def _load(self, stage_id: int) -> Any:
        import isaacsim.physics.newton
        import omni.physics.core

        self._stage_update = omni.physics.core.get_physics_stage_update_interface()
        self._sim = omni.physics.core.get_physics_simulation_interface()
        self._newton = isaacsim.physics.newton.acquire_stage()
        if self._newton is None:
            raise RuntimeError("Isaac Sim's Newton stage is not available (enable isaacsim.physics.newton)")
        self._stage_update.force_load_physics_from_usd()
        self._newton.initialize_newton(self.device)
        self._stage_update.start_simulation()
        self._newton.playing = True
        return omni.physics.tensors.create_simulation_view("torch", stage_id=stage_id, backend=engines.NEWTON)

    def _simulate(self) -> None:
        self._sim.simulate(self.physics_dt, self._time)

    def _release(self) -> None:
        newton = getattr(self, "_newton", None)
        if newton is not None:
            newton.playing = False


def _physx(stage: Usd.Stage, **kwargs: Any) -> PhysicsBackend:
    return PhysxBackend(stage, **kwargs)


def _newton(stage: Usd.Stage, **kwargs: Any) -> PhysicsBackend:
    return NewtonBackend(stage, **kwargs)


def register_kit_backends() -> list[str]:
    """Register Isaac Sim's engines as backends (``physx``; ``newton`` where this Isaac Sim has it, replacing
    the headless Newton backend, which cannot draw in the viewport); returns the engines registered."""
    factories = {engines.PHYSX: _physx, engines.NEWTON: _newton}
    available = engines.available_engines()
    for engine in available:
        register_backend(engine, factories[engine], auto=engine == engines.active_engine())
    return available
