"""NewtonBackend against physics: closed-form cart-pole results and a fine RK4 reference of the exact EOM.

Coordinates: x = cart position, theta = pole angle about +Y, 0 = upright. With M cart mass, m pole
mass, d pivot-to-COM distance, I pole inertia about its COM (hinge axis), J = I + m d^2, c cart damping:

    (M+m) x'' + m d cos(th) th'' - m d sin(th) th'^2 = F - c x'
    m d cos(th) x'' + J th''     - m g d sin(th)     = tau
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

pytest.importorskip("newton")

from pxr import Usd  # noqa: E402

from isaaclab_trainer.sim import CartpoleSpec, build_scene  # noqa: E402
from isaaclab_trainer.sim.backends import PhysicsBackend  # noqa: E402
from isaaclab_trainer.sim.backends.newton_backend import NewtonBackend  # noqa: E402

DT = 1.0 / 120.0
G = 9.81
SPEC = CartpoleSpec()


def make_backend(num_envs: int, spec: CartpoleSpec = SPEC, stage: Usd.Stage | None = None) -> NewtonBackend:
    if stage is None:
        stage = Usd.Stage.CreateInMemory()
        build_scene(stage, num_envs, spec=spec)
    return NewtonBackend(stage, num_envs, DT)


def consts(spec: CartpoleSpec = SPEC) -> tuple[float, float, float, float, float]:
    """M, m, d, J (pole inertia about the pivot) and det = (M+m) J - m^2 d^2."""
    M, m, d = spec.cart_mass, spec.pole_mass, spec.pole_com_distance
    J = spec.pole_inertia_cm_hinge_axis + m * d * d
    return M, m, d, J, (M + m) * J - m * m * d * d


def reference(y0, t_end: float, force: float = 0.0, spec: CartpoleSpec = SPEC, h: float = 1e-4) -> np.ndarray:
    """RK4 of the exact nonlinear EOM (float64); returns the state [x, th, xd, thd] every DT."""
    M, m, d, J, _ = consts(spec)
    c = spec.cart_damping

    def f(y):
        _, th, xd, thd = y
        a = np.array([[M + m, m * d * math.cos(th)], [m * d * math.cos(th), J]])
        b = np.array([force - c * xd + m * d * math.sin(th) * thd**2, m * G * d * math.sin(th)])
        acc = np.linalg.solve(a, b)
        return np.array([xd, thd, acc[0], acc[1]])

    y = np.array(y0, dtype=np.float64)
    sub = round(DT / h)
    hh = DT / sub
    out = [y.copy()]
    for _ in range(round(t_end / DT)):
        for _ in range(sub):
            k1 = f(y)
            k2 = f(y + 0.5 * hh * k1)
            k3 = f(y + 0.5 * hh * k2)
            k4 = f(y + hh * k3)
            y = y + hh / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        out.append(y.copy())
    return np.array(out)


def simulate(be: NewtonBackend, steps: int) -> torch.Tensor:
    """(steps+1, num_envs, 4) trajectory of [x, th, xd, thd]."""
    out = [torch.cat([be.joint_pos(), be.joint_vel()], dim=1).clone()]
    for _ in range(steps):
        be.step()
        out.append(torch.cat([be.joint_pos(), be.joint_vel()], dim=1).clone())
    return torch.stack(out).double()


def period_from_crossings(t: np.ndarray, y: np.ndarray) -> float:
    """Mean period from linearly interpolated upward zero crossings."""
    idx = np.nonzero((y[:-1] < 0) & (y[1:] >= 0))[0]
    tc = t[idx] - y[idx] * (t[idx + 1] - t[idx]) / (y[idx + 1] - y[idx])
    assert len(tc) >= 3, "not enough oscillations"
    return float(np.mean(np.diff(tc)))


def test_interface_and_layout():
    be = make_backend(3)
    assert isinstance(be, PhysicsBackend)
    assert be.joint_names == ["slider_to_cart", "cart_to_pole"]
    assert be.body_names == ["slider", "cart", "pole"]
    assert be.num_envs == 3 and be.num_dofs == 2 and be.device == "cpu"
    assert be.joint_pos().shape == (3, 2) and be.joint_pos().dtype == torch.float32
    assert torch.equal(be.joint_pos(), torch.zeros(3, 2))
    assert be.effort_limit.tolist() == [400.0, 400.0]
    # the USD drive (stiffness 0, damping 10) reached the model
    assert be.model.joint_target_kd.numpy()[:2].tolist() == [10.0, 0.0]
    assert be.model.joint_target_ke.numpy()[:2].tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    ("cart_mass", "label"),
    [(SPEC.cart_mass, "free cart"), (1.0e6, "cart effectively fixed")],
)
def test_small_oscillation_period(cart_mass: float, label: str):
    """Pole hanging (th = pi) released at 0.05 rad, no damping: linearized compound-pendulum period."""
    spec = CartpoleSpec(cart_mass=cart_mass, cart_damping=0.0)
    M, m, d, J, det = consts(spec)
    omega = math.sqrt(m * G * d * (M + m) / det)  # -> sqrt(m g d / J) for M -> inf
    be = make_backend(1, spec)
    be.write_joint_state(torch.tensor([0]), torch.tensor([[0.0, math.pi + 0.05]]), torch.zeros(1, 2))
    traj = simulate(be, 900).numpy()[:, 0]  # 7.5 s, ~5 periods
    t = np.arange(len(traj)) * DT
    period = period_from_crossings(t, traj[:, 1] - math.pi)
    assert period == pytest.approx(2 * math.pi / omega, rel=0.02), label
    # 0.05 rad amplitude: the nonlinear correction is ~ amp^2/16 = 0.016 %, so 0.5 % must hold too
    assert period == pytest.approx(2 * math.pi / omega, rel=0.005), label


def test_initial_cart_acceleration_under_force():
    """Pole upright at rest, cart at rest, force F: x'' = F J / det (not F / (M+m)); damping 0 at v = 0."""
    _, _, _, J, det = consts()
    forces = torch.tensor([5.0, 50.0, -120.0, 0.0])
    be = make_backend(4)
    be.set_joint_efforts(torch.stack([forces, torch.zeros(4)], dim=1))
    be.step()
    acc = be.joint_vel()[:, 0].double() / DT
    assert torch.allclose(acc, forces.double() * J / det, rtol=1e-4, atol=1e-6)
    # and the pole reacts in the opposite sense: th'' = -m d x'' / J
    _, m, d, _, _ = consts()
    th_acc = be.joint_vel()[:, 1].double() / DT
    assert torch.allclose(th_acc, -m * d * forces.double() / det, rtol=1e-4, atol=1e-6)


def test_constant_force_trajectory_matches_reference():
    """Constant 20 N for 0.5 s from upright rest, damping on: compare to an RK4 of the exact EOM."""
    be = make_backend(1)
    be.set_joint_efforts(torch.tensor([[20.0, 0.0]]))
    sim = simulate(be, 60)[:, 0].numpy()
    ref = reference([0.0, 0.0, 0.0, 0.0], 0.5, force=20.0)
    # semi-implicit Euler at dt = 1/120 vs the exact solution: first-order error, measured <= 2 % of each
    # column's range (the pole falls to ~1.7 rad, so this is well into the nonlinear regime)
    scale = np.abs(ref).max(axis=0)
    assert np.all(np.abs(sim - ref) <= 0.03 * scale)


def test_cart_damping():
    """Cart launched at 1 m/s, pole hanging at rest, no force: the drive's damping 10 decelerates it.

    Initial deceleration is exactly -c v0 J / det; the 2 s trajectory follows the exact damped EOM.
    Without damping the cart+pole momentum would be conserved, so this also shows the damping acts.
    """
    _, _, _, J, det = consts()
    v0 = 1.0
    be = make_backend(1)
    be.write_joint_state(torch.tensor([0]), torch.tensor([[0.0, math.pi]]), torch.tensor([[v0, 0.0]]))
    sim = simulate(be, 240)[:, 0].numpy()
    acc0 = (sim[1, 2] - sim[0, 2]) / DT
    assert acc0 == pytest.approx(-SPEC.cart_damping * v0 * J / det, rel=1e-4)
    ref = reference([0.0, math.pi, v0, 0.0], 2.0)
    # first-order integrator error, measured: 9 mm, 0.015 m/s, 0.01 rad, 0.02 rad/s
    assert np.abs(sim[:, 0] - ref[:, 0]).max() < 0.02
    assert np.abs(sim[:, 2] - ref[:, 2]).max() < 0.03 * v0
    assert np.abs(sim[:, 1] - ref[:, 1]).max() < 0.02
    assert abs(sim[-1, 2]) < 0.1 * v0  # decayed


def test_efforts_are_clamped():
    _, _, _, J, det = consts()
    be = make_backend(2)
    be.set_joint_efforts(torch.tensor([[1000.0, -5000.0], [-401.0, 10.0]]))
    applied = torch.from_numpy(be.control.joint_f.numpy().reshape(2, 2))
    assert torch.equal(applied, torch.tensor([[400.0, -400.0], [-400.0, 10.0]]))
    be.set_joint_efforts(torch.tensor([[1000.0, 0.0], [-1000.0, 0.0]]))
    be.step()
    acc = be.joint_vel()[:, 0].double() / DT
    assert torch.allclose(acc, torch.tensor([400.0, -400.0], dtype=torch.float64) * J / det, rtol=1e-4)


def test_write_joint_state_subset_leaves_others_untouched():
    n = 8
    gen = torch.Generator().manual_seed(1)
    pos0 = 0.3 * torch.randn(n, 2, generator=gen)
    vel0 = 0.3 * torch.randn(n, 2, generator=gen)
    eff = 20.0 * torch.randn(n, 2, generator=gen)
    a, b = make_backend(n), make_backend(n)
    for be in (a, b):
        be.write_joint_state(torch.arange(n), pos0, vel0)
        be.set_joint_efforts(eff)
        for _ in range(10):
            be.step()
    ids = torch.tensor([1, 5], dtype=torch.long)
    new_pos, new_vel = torch.tensor([[0.5, 0.1], [-1.0, 3.0]]), torch.tensor([[0.2, -0.3], [0.0, 1.0]])
    before_q, before_qd = a.joint_pos().clone(), a.joint_vel().clone()
    a.write_joint_state(ids, new_pos, new_vel)
    keep = torch.ones(n, dtype=torch.bool)
    keep[ids] = False
    assert torch.equal(a.joint_pos()[ids], new_pos) and torch.equal(a.joint_vel()[ids], new_vel)
    assert torch.equal(a.joint_pos()[keep], before_q[keep]) and torch.equal(a.joint_vel()[keep], before_qd[keep])
    for _ in range(20):
        a.step()
        b.step()
    # untouched envs evolve bit-identically to a twin that never saw the write; written ones differ
    assert torch.equal(a.joint_pos()[keep], b.joint_pos()[keep])
    assert torch.equal(a.joint_vel()[keep], b.joint_vel()[keep])
    assert not torch.equal(a.joint_pos()[ids], b.joint_pos()[ids])


def test_deterministic():
    n = 16
    gen = torch.Generator().manual_seed(2)
    pos0, vel0 = 0.5 * torch.randn(n, 2, generator=gen), torch.randn(n, 2, generator=gen)
    efforts = [100.0 * torch.randn(n, 2, generator=gen) for _ in range(30)]
    results = []
    for _ in range(2):
        be = make_backend(n)
        be.write_joint_state(torch.arange(n), pos0, vel0)
        for e in efforts:
            be.set_joint_efforts(e)
            be.step()
        results.append((be.joint_pos().clone(), be.joint_vel().clone()))
    assert torch.equal(results[0][0], results[1][0]) and torch.equal(results[0][1], results[1][1])


def test_backend_from_stage_on_disk(tmp_path):
    """The backend parses a stage opened from a file, and env_0 at a non-zero grid origin is fine."""
    path = str(tmp_path / "scene.usda")
    stage = Usd.Stage.CreateNew(path)
    build_scene(stage, 4)
    stage.Save()
    be = make_backend(4, stage=Usd.Stage.Open(path))
    _, _, _, J, det = consts()
    be.set_joint_efforts(torch.tensor([[50.0, 0.0]]).repeat(4, 1))
    be.step()
    assert torch.allclose(be.joint_vel()[:, 0].double() / DT, torch.full((4,), 50.0 * J / det, dtype=torch.float64))
