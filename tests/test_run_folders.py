"""Parallel runs never share a run folder: the name is claimed by a create that fails if it exists."""

from __future__ import annotations

import multiprocessing as mp
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest

from isaaclab_trainer.train import runs

N = 24
STAMP = "2026-11-23_10-00-00"


class SameSecond(datetime):
    """A clock stopped at one second: every claim collides on the timestamp, however slow the machine."""

    @classmethod
    def now(cls, tz=None):
        return cls(2026, 11, 23, 10, 0, 0, tzinfo=tz)


@pytest.fixture
def same_second(monkeypatch):
    monkeypatch.setattr(runs, "datetime", SameSecond)


def test_threads_started_at_once_get_distinct_folders(tmp_path, same_second):
    barrier = threading.Barrier(N)

    def claim(_: int) -> Path:
        barrier.wait()  # all claim in the same instant, so (nearly) all in the same second
        return runs.new_run_dir("Isaac-Cartpole-v0", tmp_path)

    with ThreadPoolExecutor(N) as pool:
        claimed = list(pool.map(claim, range(N)))
    assert len(set(claimed)) == N
    assert all(p.is_dir() for p in claimed)
    assert sorted(p.name for p in claimed) == sorted(p.name for p in claimed[0].parent.iterdir())
    assert sorted(p.name for p in claimed) == sorted([STAMP, *(f"{STAMP}_{n}" for n in range(1, N))])


def _claim_in_process(parent: str, barrier, queue) -> None:
    barrier.wait()
    queue.put(str(runs.claim_run_dir(parent)))


def test_processes_started_at_once_get_distinct_folders(tmp_path, same_second):
    ctx = mp.get_context("fork")
    barrier, queue = ctx.Barrier(8), ctx.Queue()
    procs = [ctx.Process(target=_claim_in_process, args=(str(tmp_path / "sweep"), barrier, queue)) for _ in range(8)]
    for p in procs:
        p.start()
    claimed = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert len(set(claimed)) == 8 and all(Path(c).is_dir() for c in claimed)


def test_a_run_that_cannot_start_leaves_no_folder(tmp_path):
    from isaaclab_trainer.tasks import load_env_cfg
    from isaaclab_trainer.train.trainer import make_env, setup_training
    from isaaclab_trainer.utils import ConfigError

    env_cfg = load_env_cfg("Isaac-Cartpole-v0")
    env_cfg.num_envs = 2
    env = make_env("Isaac-Cartpole-v0", env_cfg)
    run = runs.new_run_dir("Isaac-Cartpole-v0", tmp_path)
    try:
        with pytest.raises(ConfigError, match="unknown key 'n_step'"):
            setup_training(env, "Isaac-Cartpole-v0", env_cfg, {"n_step": 16}, run)
    finally:
        env.close()
    assert not (tmp_path / "sb3").exists()  # nor the folders its claim created above it
    kept = runs.claim_run_dir(tmp_path)
    (kept / "command.txt").write_text("x")
    runs.release_run_dir(kept)  # a folder with anything in it is never removed
    assert (kept / "command.txt").is_file()
