"""Isaac Lab task: this package's SB3 wrapper vs Isaac Lab 3.0's own ``Sb3VecEnvWrapper``, on one Isaac Lab env.

Isaac Lab's ``Isaac-Cartpole`` (``isaaclab:Isaac-Cartpole``, 64 envs, CPU, kitless Newton, our cartpole USD
substituted), built once; both wrappers wrap that same env and step it with the same pre-drawn random actions,
interleaved rounds of ``STEPS`` ``step()`` calls each. Ratio = ours steps/s / Isaac Lab's (>= 1: ours at least as
fast). Needs ``./isaaclab.sh -i isaaclab``.

./isaaclab.sh -p scripts/benchmarks/isaaclab_wrappers.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from common import interleaved, line, machine, median, paired_ratio

NAME = "isaaclab_wrappers"
NUM_ENVS = 64
STEPS = 200
REPEATS = 5


def main() -> None:
    from isaaclab_rl.sb3 import Sb3VecEnvWrapper as IsaacLabWrapper

    from isaaclab_trainer.sim.cartpole import write_cartpole_usd
    from isaaclab_trainer.tasks import load_env_cfg, override_env_cfg
    from isaaclab_trainer.train.trainer import make_env
    from isaaclab_trainer.wrappers.sb3 import Sb3VecEnvWrapper

    task = "isaaclab:Isaac-Cartpole"
    usd = write_cartpole_usd(str(Path(tempfile.mkdtemp()) / "cartpole.usda"))
    overrides = (f"env.scene.robot.spawn.usd_path={usd}", "env.scene.ground=None")
    env = make_env(task, override_env_cfg(load_env_cfg(task), num_envs=NUM_ENVS, overrides=overrides))
    actions = np.random.default_rng(0).uniform(-1, 1, (STEPS, NUM_ENVS, 1)).astype(np.float32)
    wrappers = {"ours": Sb3VecEnvWrapper(env), "isaaclab": IsaacLabWrapper(env.unwrapped)}

    def rate(venv) -> float:
        venv.reset()
        t = time.perf_counter()
        for a in actions:
            venv.step(a)
        return STEPS * NUM_ENVS / (time.perf_counter() - t)

    rates = interleaved({k: (lambda v=v: rate(v)) for k, v in wrappers.items()}, REPEATS, alternate=True)
    env.close()
    detail = ", ".join(f"{k} {median(v):.0f} env steps/s" for k, v in rates.items())
    print(machine())
    print(line(NAME, f"{NUM_ENVS} envs, {detail}", paired_ratio(rates["ours"], rates["isaaclab"])))


if __name__ == "__main__":
    main()
