"""Newton implementation of :class:`PhysicsBackend`.

Pipeline: parse env_0's articulation from the (UsdPhysics) stage with Newton's USD importer
(``ModelBuilder.add_usd``), replicate it ``num_envs`` times as separate worlds
(``ModelBuilder.replicate``), finalize, and step every world in one batched solver call.
All worlds sit at the origin (Newton's recommendation); env spacing is a USD/visual matter only:
:attr:`NewtonBackend.env_origins` holds each env's place in the stage, for viewers' world offsets.
The model keeps the bodies' visual boxes and a ground plane (visual only: no solver here computes
contacts, and the boxes carry no mass), so Newton's viewers (``newton.viewer``) can draw
``model`` / ``state`` as they are.

Batched state is exposed through zero-copy ``wp.to_torch`` views of ``state.joint_q/joint_qd`` and
``control.joint_f`` reshaped to ``(num_envs, coords per world)``: a fixed root (the cartpole's rail)
has no coordinate, so the dofs are the whole row; a floating root (a legged robot, no root joint
authored: Newton's importer gives it a free joint) owns the first 7 coordinates (position,
quaternion ``x, y, z, w``) and 6 velocities (linear, angular), the dofs the rest. ``step()`` does no allocation and no
per-env Python work. With Featherstone on CPU it replays a Warp graph of one substep captured at
construction (Warp's CPU graph capture, replayed in C++) instead of ~15 Python kernel launches, and
resets defer their ``eval_fk`` until ``state`` is read (trajectories bit-identical; figures in
docs/benchmarks.md).

Contacts (``contacts=True``, the legged robots): a ``newton.CollisionPipeline`` finds them before
every physics step; the ground plane and the robot's collision shapes take part. XPBD works in body
coordinates, so after its steps the joint coordinates are recomputed (``eval_ik``) when first read,
and a joint or root write is carried to the bodies at once (``eval_fk``).

Solver choice for the cartpole: Featherstone, faster than MuJoCo-Warp on the CPU for this cartpole and exact for its
explicit-force dynamics (a tree articulation, no contacts needed); MuJoCo-Warp integrates damping
implicitly, so a step accelerates by F/(M_eff + c dt) instead of F/M_eff. Figures in
docs/benchmarks.md ("Newton solver choice"; ``scripts/benchmarks/newton_solvers.py`` reruns them).
(``use_mujoco_cpu=True`` refuses multi-world models.) Pass ``solver="mujoco"`` to use MuJoCo-Warp
(e.g. on GPU at large N, re-measure there).

Damping / effort limits: the importer maps the USD ``DriveAPI`` (stiffness 0, damping 10,
maxForce 400) to ``joint_target_ke=0``, ``joint_target_kd=10``, ``joint_effort_limit=400`` with
target velocity 0, so the drive itself produces ``-10 * v`` on the cart (checked by the physics
tests against the analytic decay). Applied efforts are clamped to ``+-joint_effort_limit`` in
:meth:`NewtonBackend.set_joint_efforts` before they reach ``control.joint_f``.
"""

from __future__ import annotations

import numpy as np
import torch
import warp as wp

# Before Newton initializes Warp: no banner and no per-kernel-module "load (cached)" lines in logs.
wp.config.quiet = True
wp.config.log_level = wp.LOG_WARNING

import newton  # noqa: E402
from pxr import Usd, UsdGeom  # noqa: E402

from ..scene import env_origins  # noqa: E402
from .base import PhysicsBackend, canonical_device, quat_apply_inverse  # noqa: E402

SOLVERS = ("featherstone", "mujoco", "xpbd")
DEFAULT_SOLVER = "featherstone"
#: coordinates / velocities a free (floating-base) root joint owns per world
FREE_COORDS, FREE_DOFS = 7, 6


def has_free_root(builder: newton.ModelBuilder) -> bool:
    """Whether the builder's first joint is a free (floating-base) root."""
    return builder.joint_count > 0 and builder.joint_type[0] == newton.JointType.FREE


def dof_names(builder: newton.ModelBuilder) -> list[str]:
    """One name per dof of the builder's joints (a free root left out), as Isaac Lab 3.0's Newton articulation
    names them: a one-dof joint by its prim name, each axis of a multi-axis joint (D6, spherical) as
    ``<joint>:<axis index>``, so that Isaac Lab's joint-name tables (``".*_thigh:1"``) apply per axis."""
    names = []
    for j in range(1 if has_free_root(builder) else 0, builder.joint_count):
        start = builder.joint_qd_start[j]
        end = builder.joint_qd_start[j + 1] if j + 1 < builder.joint_count else builder.joint_dof_count
        joint = builder.joint_label[j].rsplit("/", 1)[-1]
        names.extend(joint if end - start == 1 else f"{joint}:{axis}" for axis in range(end - start))
    return names


class NewtonBackend(PhysicsBackend):
    """``num_envs`` replicas of the articulation at ``env_root`` simulated by Newton."""

    def __init__(
        self,
        stage: Usd.Stage,
        num_envs: int,
        physics_dt: float,
        device: str = "cpu",
        env_root: str = "/World/envs/env_0/Robot",
        solver: str = DEFAULT_SOLVER,
        contacts: bool = False,
        solver_options: dict | None = None,
        graph: bool = True,
        self_collisions: bool = False,
        substeps: int = 1,
    ) -> None:
        if solver not in SOLVERS:
            raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
        self.num_envs = int(num_envs)
        self.physics_dt = float(physics_dt)
        self.device = canonical_device(device)
        self.solver_name = solver
        #: solver steps per :meth:`step` (Isaac Lab's ``NewtonCfg.num_substeps``), each ``physics_dt / substeps``
        self.substeps = int(substeps)
        self._wp_device = wp.get_device(self.device)

        # --- parse env_0 from USD, with its env origin moved to the world origin ---
        prim = stage.GetPrimAtPath(env_root)
        if not prim.IsValid():
            raise ValueError(f"no prim at {env_root!r}")
        env_origin = (
            UsdGeom.Xformable(prim.GetParent())
            .ComputeLocalToWorldTransform(Usd.TimeCode.Default())
            .ExtractTranslation()
            if prim.GetParent().IsA(UsdGeom.Xformable)
            else (0.0, 0.0, 0.0)
        )
        env_builder = newton.ModelBuilder()
        if solver.startswith("mujoco"):
            newton.solvers.SolverMuJoCo.register_custom_attributes(env_builder)
        env_builder.add_usd(
            stage,
            root_path=env_root,
            xform=wp.transform(wp.vec3(*(-float(c) for c in env_origin)), wp.quat_identity()),
            enable_self_collisions=self_collisions,
            load_visual_shapes=True,
        )
        free_root = has_free_root(env_builder)
        self._root_coords, self._root_dofs = (FREE_COORDS, FREE_DOFS) if free_root else (0, 0)
        joint_names = dof_names(env_builder)
        if env_builder.joint_dof_count - self._root_dofs != env_builder.joint_coord_count - self._root_coords:
            raise NotImplementedError("only a fixed or free root and revolute/prismatic dofs are supported")
        self.joint_names = joint_names
        self.body_names = [label.rsplit("/", 1)[-1] for label in env_builder.body_label]
        nd = len(joint_names)
        coords, dofs = nd + self._root_coords, nd + self._root_dofs

        # --- replicate & finalize ---
        builder = newton.ModelBuilder()
        if solver.startswith("mujoco"):
            newton.solvers.SolverMuJoCo.register_custom_attributes(builder)
        builder.replicate(env_builder, copy_count=self.num_envs)
        builder.add_ground_plane()
        #: the finalized Newton model (all worlds at the origin), e.g. for ``newton.viewer`` ``set_model``
        self.model = builder.finalize(device=self._wp_device)
        env0 = prim.GetParent()
        prefix = f"{env0.GetParent().GetPath()}/{env0.GetName().rsplit('_', 1)[0]}"
        #: ``(num_envs, 3)`` env origins in the stage (the grid places), e.g. a viewer's ``world_offsets``
        self.env_origins = env_origins(stage, [f"{prefix}_{i}" for i in range(self.num_envs)])
        if self.model.joint_dof_count != dofs * self.num_envs:
            raise RuntimeError("unexpected dof layout after replication")

        options = dict(solver_options or {})
        if solver == "featherstone":
            # angular_damping defaults to 0.05 (body-level artificial damping): off, we want USD physics only
            self.solver = newton.solvers.SolverFeatherstone(self.model, angular_damping=0.0, **options)
        elif solver == "xpbd":
            self.solver = newton.solvers.SolverXPBD(self.model, **options)
        else:
            self.solver = newton.solvers.SolverMuJoCo(self.model, disable_contacts=not contacts, **options)
        self._maximal = solver == "xpbd"  # integrates bodies: joint coordinates follow by inverse kinematics
        self._pipeline = newton.CollisionPipeline(self.model) if contacts and solver != "mujoco" else None
        self._contacts = self._pipeline.contacts() if self._pipeline is not None else None
        # the joint wrenches (a foot's contact load) only where contacts are simulated
        kind = self.solver.ObservableKind.BODY_PARENT_F
        self._observables = (
            self.solver.observables([kind], contacts=self._contacts)
            if contacts and kind in self.solver.supported_observables
            else None
        )

        self._states = [self.model.state(), self.model.state()]
        self.control = self.model.control()
        newton.eval_fk(self.model, self.model.joint_q, self.model.joint_qd, self._states[0])

        def view(a: wp.array, width: int) -> torch.Tensor:
            return wp.to_torch(a).view(self.num_envs, width)

        self._q_all = [view(s.joint_q, coords) for s in self._states]
        self._qd_all = [view(s.joint_qd, dofs) for s in self._states]
        self._q = [q[:, self._root_coords :] for q in self._q_all]
        self._qd = [qd[:, self._root_dofs :] for qd in self._qd_all]
        self._f = view(self.control.joint_f, dofs)[:, self._root_dofs :]
        nb = len(self.body_names)
        self._body_q = [wp.to_torch(s.body_q).view(self.num_envs, nb, 7) for s in self._states]
        self._parent_f = (
            wp.to_torch(self._observables.body_parent_f).view(self.num_envs, nb, 2, 3)
            if self._observables is not None
            else None
        )
        self._cur = 0
        limits = self.model.joint_effort_limit.numpy()[self._root_dofs : dofs].astype(np.float32)
        self.effort_limit = torch.as_tensor(limits, device=self.device)
        self._neg_effort_limit = -self.effort_limit
        lower = self.model.joint_limit_lower.numpy()[self._root_dofs : dofs]
        upper = self.model.joint_limit_upper.numpy()[self._root_dofs : dofs]
        self._joint_limits = torch.as_tensor(np.stack((lower, upper), axis=-1), dtype=torch.float32, device=self.device)
        self._fk_stale = False
        self._ik_stale = False
        # Featherstone and MuJoCo Warp on CPU (``graph``): replay each substep from a captured Warp graph (C++
        # loop, same kernels and buffers) instead of ~15 (Featherstone) or ~170 (MuJoCo Warp, the ant) Python
        # kernel launches, each paying for its argument packing
        capture = graph and solver in ("featherstone", "mujoco") and self._wp_device.is_cpu and self._pipeline is None
        self._graphs = self._capture_steps() if capture else None

    # --- PhysicsBackend ---
    @property
    def state(self) -> newton.State:
        """The current Newton state (inputs of the next :meth:`step`), body poses up to date."""
        self._sync_bodies()
        return self._states[self._cur]

    def _sync_bodies(self) -> None:
        """After a deferred joint write: the body poses of the current state from its joints."""
        if self._fk_stale:
            self._fk_stale = False
            s = self._states[self._cur]
            newton.eval_fk(self.model, s.joint_q, s.joint_qd, s)

    def _sync_joints(self) -> None:
        """After XPBD steps: the joint coordinates of the current state from its body poses."""
        if self._ik_stale:
            self._ik_stale = False
            s = self._states[self._cur]
            newton.eval_ik(self.model, s, s.joint_q, s.joint_qd)

    def joint_pos(self) -> torch.Tensor:
        """Live zero-copy view of the current joint positions (clone it to keep a snapshot)."""
        self._sync_joints()
        return self._q[self._cur]

    def joint_vel(self) -> torch.Tensor:
        """Live zero-copy view of the current joint velocities (clone it to keep a snapshot)."""
        self._sync_joints()
        return self._qd[self._cur]

    def joint_limits(self) -> torch.Tensor:
        return self._joint_limits

    def set_joint_efforts(self, efforts: torch.Tensor) -> None:
        torch.clamp(efforts.to(self._f.dtype), self._neg_effort_limit, self.effort_limit, out=self._f)

    def write_joint_state(self, env_ids: torch.Tensor, pos: torch.Tensor, vel: torch.Tensor) -> None:
        self._sync_joints()
        q, qd = self._q[self._cur], self._qd[self._cur]
        q[env_ids] = pos.to(q.dtype)
        qd[env_ids] = vel.to(qd.dtype)
        self._joints_written()

    def _joints_written(self) -> None:
        # body poses follow the joints. Featherstone redoes FK from joint_q at the start of each step
        # and never reads state.body_qd, so for it FK is deferred to whoever reads ``state`` before the
        # next step (one launch saved per reset); the other solvers get it at once.
        if self.solver_name == "featherstone":
            self._fk_stale = True
        else:
            newton.eval_fk(self.model, self.state.joint_q, self.state.joint_qd, self.state)

    def root_pose(self) -> torch.Tensor:
        if not self._root_coords:  # a fixed root: its body's pose
            return self.body_poses()[:, 0]
        self._sync_joints()
        return self._q_all[self._cur][:, :FREE_COORDS].clone()  # worlds sit at the origin: env-relative

    def root_velocity(self) -> torch.Tensor:
        if not self._root_dofs:
            return torch.zeros(self.num_envs, 6, device=self.device)
        self._sync_joints()
        return self._qd_all[self._cur][:, :FREE_DOFS].clone()

    def write_root_state(self, env_ids: torch.Tensor, pose: torch.Tensor, velocity: torch.Tensor) -> None:
        if not self._root_coords:
            raise RuntimeError("the articulation's root is fixed: it has no root state to write")
        self._sync_joints()
        q, qd = self._q_all[self._cur], self._qd_all[self._cur]
        q[env_ids, :FREE_COORDS] = pose.to(q.dtype)
        qd[env_ids, :FREE_DOFS] = velocity.to(qd.dtype)
        self._joints_written()

    def body_poses(self) -> torch.Tensor:
        self._sync_bodies()
        return self._body_q[self._cur].clone()

    def body_incoming_wrenches(self) -> torch.Tensor:
        if self._observables is None:
            raise NotImplementedError(f"Newton's {self.solver_name} solver does not report joint wrenches")
        # Newton reports them in the world frame: rotate into each body's frame, as PhysX reports them
        quat = self.body_poses()[..., 3:].unsqueeze(2).expand(-1, -1, 2, -1)
        return quat_apply_inverse(quat, self._parent_f).flatten(-2)

    def step(self) -> None:
        for _ in range(self.substeps):
            if self._graphs is not None:
                wp.capture_launch(self._graphs[self._cur])
            else:
                self._solver_step(self._cur)
            self._cur = 1 - self._cur
        self._fk_stale = False  # the solver wrote the output state's body poses
        self._ik_stale = self._maximal

    def _solver_step(self, cur: int) -> None:
        s_in, s_out = self._states[cur], self._states[1 - cur]
        dt = self.physics_dt / self.substeps
        s_in.clear_forces()
        if self._pipeline is not None:
            self._pipeline.collide(s_in, self._contacts)
        if self._observables is not None:
            self.solver.step(s_in, s_out, self.control, self._contacts, dt, observables=self._observables)
        else:
            self.solver.step(s_in, s_out, self.control, self._contacts, dt)

    def _capture_steps(self) -> list:
        """Warp graphs of one substep from state 0 to 1 and from 1 to 0 (states left unchanged)."""
        saved = [{k: wp.clone(v) for k, v in vars(s).items() if isinstance(v, wp.array)} for s in self._states]
        graphs = []
        for cur in (0, 1):
            self._solver_step(cur)  # allocates the solver's scratch arrays and loads its kernels
            with wp.ScopedCapture(device=self._wp_device) as capture:  # records, runs nothing
                self._solver_step(cur)
            graphs.append(capture.graph)
        for state, arrays in zip(self._states, saved, strict=True):
            for name, array in arrays.items():
                getattr(state, name).assign(array)
        return graphs

    def close(self) -> None:
        self.solver = None
        self._graphs = None
        self._states = []
        self._q = self._qd = self._q_all = self._qd_all = self._body_q = []
        self._parent_f = None
