"""The physics-backend registry: names, the ``auto`` rule, and backends that register themselves."""

from __future__ import annotations

import pytest
from pxr import Usd

from isaaclab_trainer.sim.backends import registry


@pytest.fixture
def clean_registry(monkeypatch):
    """The registry as the Kit-free package leaves it, restored after the test."""
    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))
    monkeypatch.setattr(registry, "_AUTO_CHOICE", list(registry._AUTO_CHOICE))


def test_outside_isaac_sim_auto_is_newton_and_physx_is_named_but_not_buildable(clean_registry):
    assert registry.backend_names() == ("auto", "newton", "physx")
    assert registry.resolve_backend("auto") == "newton"
    with pytest.raises(ValueError, match="backend 'physx' needs Isaac Sim"):
        registry.resolve_backend("physx")
    with pytest.raises(ValueError, match="unknown physics backend 'bullet'; accepted: auto, newton, physx"):
        registry.resolve_backend("bullet")


def test_a_registered_backend_is_built_by_name_and_can_claim_auto(clean_registry):
    built = []

    def factory(stage, **kwargs):
        built.append((stage, kwargs))
        return "a backend"

    registry.register_backend("physx", factory, auto=True)  # what the Kit shell does when it loads
    assert registry.backend_names() == ("auto", "newton", "physx")
    assert registry.resolve_backend("auto") == "physx"
    stage = Usd.Stage.CreateInMemory()
    assert registry.make_backend("auto", stage, 3, 0.01, "cpu") == "a backend"
    assert built == [(stage, {"num_envs": 3, "physics_dt": 0.01, "device": "cpu"})]
    with pytest.raises(ValueError, match="'auto' is not a backend name"):
        registry.register_backend("auto", factory)


def test_best_model_envs_need_the_headless_newton(clean_registry):
    """The best-model evaluation builds envs in a stage of their own: only the headless Newton backend can; once
    Isaac Sim's own Newton engine takes the name (the Kit shell), a run keeps no model_best.zip."""
    from isaaclab_trainer.tasks import load_env_cfg
    from isaaclab_trainer.train.trainer import make_eval_env

    cfg = load_env_cfg("Isaac-Cartpole-v0")

    assert registry.owns_its_stage("newton") and not registry.owns_its_stage("physx")
    env = make_eval_env("Isaac-Cartpole-v0", cfg, 2)
    assert env is not None and env.unwrapped.num_envs == 2
    env.close()
    registry.register_backend("newton", lambda stage, **kw: "Isaac Sim's Newton", auto=True)
    assert not registry.owns_its_stage("newton")
    assert make_eval_env("Isaac-Cartpole-v0", cfg, 2) is None
