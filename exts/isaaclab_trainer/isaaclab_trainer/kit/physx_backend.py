"""PhysX implementation of :class:`PhysicsBackend` over Isaac Sim's live stage.

Stepping approach (one owner of physics, never two):

* The trainer owns physics and leaves the **timeline stopped**. At construction it sets
  ``/app/player/playSimulations`` to False (restored by :meth:`close`), so no app update, and not a
  user pressing Play, steps PhysX a second time.
* It loads the stage into PhysX itself, like Isaac Sim's ``SimulationManager.initialize_physics``:
  ``force_load_physics_from_usd()``, ``start_simulation()``, ``update_simulation(dt, 0)``,
  ``fetch_results()``; then it creates ``omni.physics.tensors`` views on the live stage id.
* :meth:`step` runs ``simulate(dt, t)`` + ``fetch_results()`` on ``omni.physx``'s simulation
  interface, called from the session's ``update()`` inside the app's update event (main thread).
  It does not depend on the timeline (unlike ``SimulationContext.step(render=False)``, a no-op while
  the timeline is stopped).
* A timeline PLAY or STOP event makes PhysX reload/reset the stage, after which tensor views are
  invalid; the backend marks itself invalid and :meth:`step` raises ``RuntimeError`` (the session
  reports it; press Build again).
"""

from __future__ import annotations

from typing import Any

import carb
import carb.settings
import omni.physics.tensors
import omni.physx
import omni.timeline
import omni.usd
import torch
from pxr import Usd

from isaaclab_trainer.sim.backends.base import PhysicsBackend, canonical_device
from isaaclab_trainer.sim.backends.registry import PHYSX, register_backend

ROBOTS_PATTERN = "/World/envs/*/Robot"
PLAY_SIMULATIONS = "/app/player/playSimulations"


class PhysxBackend(PhysicsBackend):
    """``num_envs`` cartpoles at ``/World/envs/env_<i>/Robot`` in the live stage, simulated by PhysX."""

    def __init__(
        self,
        stage: Usd.Stage,
        num_envs: int,
        physics_dt: float,
        device: str = "cpu",
        pattern: str = ROBOTS_PATTERN,
    ) -> None:
        context = omni.usd.get_context()
        if context.get_stage() is None or context.get_stage() != stage:
            raise ValueError("PhysxBackend simulates Isaac Sim's open stage; pass omni.usd.get_context().get_stage()")
        self._timeline = omni.timeline.get_timeline_interface()
        if self._timeline.is_playing():
            raise RuntimeError("stop the timeline (Stop button) before building: the trainer steps PhysX itself")

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
            self._physx = omni.physx.get_physx_interface()
            self._sim = omni.physx.get_physx_simulation_interface()
            self._physx.force_load_physics_from_usd()
            self._physx.start_simulation()
            self._physx.update_simulation(self.physics_dt, 0.0)
            self._sim.fetch_results()

            self._view = omni.physics.tensors.create_simulation_view("torch", stage_id=context.get_stage_id())
            self._robots = self._view.create_articulation_view(pattern)
            if self._robots is None or self._robots.count != self.num_envs:
                found = 0 if self._robots is None else self._robots.count
                raise RuntimeError(f"expected {self.num_envs} articulations at {pattern!r}, PhysX found {found}")
        except Exception:
            self.close()
            raise

        self.joint_names = list(self._robots.shared_metatype.dof_names)
        self._sim_device = torch.device(str(self._view.device))
        nd = len(self.joint_names)
        self._all = torch.arange(self.num_envs, dtype=torch.int32, device=self._sim_device)
        self._efforts = torch.zeros((self.num_envs, nd), dtype=torch.float32, device=self._sim_device)
        # effort limits (the USD drives' maxForce), read once; PhysX returns them on the CPU
        self._max_forces = self._robots.get_dof_max_forces().clone().to(self._sim_device)

    # -- events --------------------------------------------------------------------------------

    def _on_timeline_event(self, _event: object) -> None:
        if self._valid and not self._closed:
            carb.log_warn("[isaaclab_trainer] timeline Play/Stop: PhysX views are now invalid; Build again")
        self._valid = False

    def _check(self) -> None:
        if self._closed:
            raise RuntimeError("PhysxBackend is closed")
        if not self._valid or not self._view.is_valid:
            raise RuntimeError("PhysX simulation views are invalid (timeline Play/Stop or stage change); Build again")

    # -- PhysicsBackend ------------------------------------------------------------------------

    def joint_pos(self) -> torch.Tensor:
        self._check()
        return self._robots.get_dof_positions().clone().to(self.device)

    def joint_vel(self) -> torch.Tensor:
        self._check()
        return self._robots.get_dof_velocities().clone().to(self.device)

    def set_joint_efforts(self, efforts: torch.Tensor) -> None:
        self._check()
        e = efforts.to(device=self._sim_device, dtype=torch.float32)
        self._efforts.copy_(torch.maximum(torch.minimum(e, self._max_forces), -self._max_forces))

    def write_joint_state(self, env_ids: torch.Tensor, pos: torch.Tensor, vel: torch.Tensor) -> None:
        self._check()
        if env_ids.numel() == 0:
            return
        ids = env_ids.to(device=self._sim_device, dtype=torch.int64)
        # the tensor API takes full (count, dofs) buffers and applies the rows named by indices
        full_pos = self._robots.get_dof_positions().clone()
        full_vel = self._robots.get_dof_velocities().clone()
        full_pos[ids] = pos.to(device=self._sim_device, dtype=torch.float32)
        full_vel[ids] = vel.to(device=self._sim_device, dtype=torch.float32)
        indices = ids.to(torch.int32)
        self._robots.set_dof_positions(full_pos, indices)
        self._robots.set_dof_velocities(full_vel, indices)

    def step(self) -> None:
        self._check()
        # joint forces are written every physics step, like Isaac Lab's write_data_to_sim
        self._robots.set_dof_actuation_forces(self._efforts, self._all)
        self._sim.simulate(self.physics_dt, self._time)
        self._sim.fetch_results()
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
                carb.log_warn(f"[isaaclab_trainer] invalidating the PhysX view failed: {exc}")
        self._view = None
        self._robots = None
        self._settings.set(PLAY_SIMULATIONS, True if self._play_simulations is None else bool(self._play_simulations))


# Loading the Kit shell makes PhysX buildable by name, and what "auto" means inside Isaac Sim.
register_backend(PHYSX, PhysxBackend, auto=True)
