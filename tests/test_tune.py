"""tune.py: sweeps on a real local Ray instance (shared by the tests), bad sweep files, seeds summary."""

from __future__ import annotations

import csv
import logging
import os
import runpy
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import REPO, TRAIN, run_script
from isaaclab_trainer.train import sweep as sw
from isaaclab_trainer.utils import ConfigError

TUNE = REPO / "scripts" / "reinforcement_learning" / "ray" / "tune.py"
RUN_FILES = ("params/env.yaml", "params/agent.yaml", "command.txt", "model.zip", sw.TRIAL_MARKER)
#: 8 envs x 64 steps per PPO iteration: 4 iterations, and random-policy episodes end within them
TINY = ["--num_envs", "8", "--stop_timesteps", "2048"]


@pytest.fixture(scope="module")
def ray_node() -> dict:
    """One small local Ray for every sweep here (2 CPUs, small object store, no dashboard): its address info."""
    import ray

    info = ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=100 * 1024**2,
        logging_level=logging.WARNING,
    )
    yield info.address_info
    ray.shutdown()


@pytest.fixture(scope="module")
def ray_address(ray_node) -> str:
    return ray_node["gcs_address"]


def write(path: Path, data) -> Path:
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def sweep_dir_of(cwd: Path) -> Path:
    (folder,) = (cwd / "logs" / "ray" / "Isaac-Cartpole-v0").iterdir()
    return folder


def table(folder: Path) -> list[dict]:
    with open(folder / sw.TABLE_CSV) as f:
        return list(csv.DictReader(f))


def test_tiny_sweep_runs_to_the_end(ray_address, tmp_path):
    sweep_file = write(
        tmp_path / "tiny.yaml",
        {
            "space": {"learning_rate": {"loguniform": [1.0e-4, 1.0e-3]}, "n_steps": {"choice": [64]}},
            "search": {"seed": 0},
        },
    )
    args = ["--sweep", str(sweep_file), "--num_samples", "2", "--max_concurrent", "2", "--address", ray_address]
    res = run_script(TUNE, *args, *TINY, cwd=tmp_path, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    folder = sweep_dir_of(tmp_path)

    runs = sorted(p for p in folder.iterdir() if (p / "command.txt").is_file())
    assert len(runs) == 2  # two trials, two run folders, never a shared one
    for run in runs:
        for name in RUN_FILES:
            assert (run / name).is_file(), (run, name)
        assert list((run / "PPO_1").glob("events.out.tfevents.*"))
        assert "num_envs: 8" in (run / "params" / "env.yaml").read_text()

    rows = table(folder)
    # ASHA (the default scheduler) may stop the weaker trial at its first rung; it still saved model.zip
    assert {r["status"] for r in rows} <= {"DONE", "STOPPED"} and "DONE" in {r["status"] for r in rows}
    for r in rows:
        assert (int(r["timesteps"]) == 2048) == (r["status"] == "DONE"), r
    assert {Path(r["run_dir"]) for r in rows} == set(runs)
    rates = {float(r["learning_rate"]) for r in rows}
    assert len(rates) == 2 and all(1e-4 <= lr <= 1e-3 for lr in rates)
    for r in rows:  # each run folder holds the trial's own drawn value
        agent = yaml.safe_load((Path(r["run_dir"]) / "params" / "agent.yaml").read_text())
        assert agent["learning_rate"] == float(r["learning_rate"]) and agent["n_steps"] == 64
    assert "best rollout/ep_rew_mean" in res.stdout and "trial " in res.stdout
    for r in rows:
        assert r["trial"] in res.stdout

    best = max(rows, key=lambda r: float(r["best rollout/ep_rew_mean"]))
    best_agent = folder / sw.BEST_AGENT
    assert yaml.safe_load(best_agent.read_text())["learning_rate"] == float(best["learning_rate"])
    train = run_script(
        TRAIN, "--agent", str(best_agent), "--num_envs", "8", "--max_iterations", "1", "--headless", cwd=tmp_path
    )
    assert train.returncode == 0, train.stderr[-3000:]
    (run,) = (tmp_path / "logs" / "sb3" / "Isaac-Cartpole-v0").iterdir()
    assert yaml.safe_load((run / "params" / "agent.yaml").read_text())["learning_rate"] == float(best["learning_rate"])
    assert (run / "model.zip").is_file()


def test_ant_sweep_file_runs_one_tiny_trial(ray_address, tmp_path):
    """The Ant's sweep file (its space, search and metric; ASHA's grace period cut to the tiny budget, which the
    file's 50,000 would exceed) trains one Isaac-Ant-v0 trial on Ray to a run folder with its drawn values."""
    sweep = yaml.safe_load((REPO / "config" / "sweeps" / "ant_ppo.yaml").read_text())
    sweep["scheduler"]["grace_period"] = 512
    sweep_file = write(tmp_path / "ant.yaml", sweep)
    args = ["--task", "Isaac-Ant-v0", "--sweep", str(sweep_file), "--num_samples", "1", "--address", ray_address]
    # 32 envs x 16 steps: one rollout fills the Ant's batch of 512; two PPO iterations
    res = run_script(TUNE, *args, "--num_envs", "32", "--stop_timesteps", "1024", cwd=tmp_path, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (folder,) = (tmp_path / "logs" / "ray" / "Isaac-Ant-v0").iterdir()
    (row,) = table(folder)
    assert row["status"] == "DONE" and int(row["timesteps"]) == 1024, row
    run = Path(row["run_dir"])
    for name in RUN_FILES:
        assert (run / name).is_file(), (run, name)
    agent = yaml.safe_load((run / "params" / "agent.yaml").read_text())
    assert 3.0e-5 <= agent["learning_rate"] <= 1.0e-3 and agent["n_epochs"] in (4, 8)
    assert 0.9 <= agent["gae_lambda"] <= 0.97 and agent["policy_kwargs"]["net_arch"]["pi"] == [256, 256]
    assert "num_envs: 32" in (run / "params" / "env.yaml").read_text()


def test_failing_trial_is_reported_and_the_sweep_goes_on(ray_address, tmp_path):
    # log_std_init 1000: an infinite action std, NaN losses, and PPO's Normal distribution raises
    sweep_file = write(
        tmp_path / "fail.yaml",
        {
            "space": {"policy_kwargs.log_std_init": {"grid": [0.0, 1000.0]}, "n_steps": {"choice": [64]}},
            "scheduler": {"name": "fifo"},
        },
    )
    res = run_script(TUNE, "--sweep", str(sweep_file), "--address", ray_address, *TINY, cwd=tmp_path, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    folder = sweep_dir_of(tmp_path)
    rows = {float(r["policy_kwargs.log_std_init"]): r for r in table(folder)}
    assert rows[0.0]["status"] == "DONE" and int(rows[0.0]["timesteps"]) == 2048 and not rows[0.0]["error"]
    assert rows[1000.0]["status"] == "ERROR" and rows[1000.0]["error"].startswith("ValueError: Expected parameter loc")
    assert f"trial {rows[1000.0]['trial']} failed: ValueError: Expected parameter loc" in res.stdout
    best = yaml.safe_load((folder / sw.BEST_AGENT).read_text())
    assert best["policy_kwargs"]["log_std_init"] == 0.0  # the failed trial is never the best


def run_inprocess(args: list[str], cwd: Path, monkeypatch, capsys) -> tuple[int, str]:
    """tune.py as __main__ here, with Ray made unimportable: a check that waits for Ray fails loudly."""
    monkeypatch.chdir(cwd)
    monkeypatch.setitem(sys.modules, "ray", None)
    monkeypatch.setattr(sys, "argv", [str(TUNE), *args])
    with pytest.raises(SystemExit) as exc_info:
        runpy.run_path(str(TUNE), run_name="__main__")
    return exc_info.value.code, capsys.readouterr().err


GOOD_SPACE = {"learning_rate": {"loguniform": [1.0e-4, 1.0e-3]}}
BAD_SWEEPS = {
    "unknown top-level key": ({"spaces": GOOD_SPACE}, ["unknown key 'spaces'", "did you mean 'space'"]),
    "unknown distribution": ({"space": {"gamma": {"choise": [0.9]}}}, ["unknown distribution 'choise'", "'choice'"]),
    "unknown agent key": ({"space": {"n_step": {"choice": [16]}}}, ["unknown key 'n_step'", "did you mean 'n_steps'"]),
    "bad policy key": (
        {"space": {"policy_kwargs.net_arc": {"choice": [[32]]}}},
        ["unknown key 'policy_kwargs.net_arc'", "'net_arch'"],
    ),
    "dotted key outside policy_kwargs": ({"space": {"gamma.x": {"choice": [1]}}}, ["only policy_kwargs.<name> keys"]),
    "bad value in a choice": (
        {"space": {"n_steps": {"choice": [16, 0]}}},
        ["'n_steps' must be an integer >= 1, got 0"],
    ),
    "uniform over an integer key": ({"space": {"n_epochs": {"uniform": [1, 10]}}}, ["'n_epochs' must be an integer"]),
    "exponent read as text": (
        "space:\n  learning_rate: {loguniform: [1e-4, 1e-3]}\n",
        ["bound must be a number, got '1e-4'", "write it with a dot"],
    ),
    "low above high": ({"space": {"gamma": {"uniform": [0.99, 0.9]}}}, ["needs low < high"]),
    "wrong type": ({"space": GOOD_SPACE, "stop_timesteps": "long"}, ["'stop_timesteps' must be", "got 'long'"]),
    "unknown scheduler": ({"space": GOOD_SPACE, "scheduler": {"name": "ahsa"}}, ["unknown scheduler 'ahsa'", "'asha'"]),
    "unknown scheduler key": (
        {"space": GOOD_SPACE, "scheduler": {"grace": 10}},
        ["unknown key 'grace'", "grace_period"],
    ),
    "bad metric": (
        {"space": GOOD_SPACE, "metric": "ep_rew_mean"},
        ["unknown metric 'ep_rew_mean'", "rollout/ep_rew_mean"],
    ),
    "num_envs 0": ({"space": {"num_envs": {"choice": [8, 0]}}}, ["num_envs must be an integer >= 1, got 0"]),
    "no space": ({"metric": "rollout/ep_rew_mean"}, ["'space' names no key to sweep"]),
    "not YAML": ("space: [\n", ["is not valid YAML"]),
}


@pytest.mark.parametrize("case", list(BAD_SWEEPS))
def test_bad_sweep_file_one_line_before_ray(case, tmp_path, monkeypatch, capsys):
    data, expected = BAD_SWEEPS[case]
    path = write(tmp_path / "bad.yaml", data)
    code, err = run_inprocess(["--sweep", str(path)], tmp_path, monkeypatch, capsys)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tune.py: error: ") and "Traceback" not in err, err
    for text in expected:
        assert text in lines[0], (text, lines[0])
    assert not (tmp_path / "logs").exists()


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--sweep", "nowhere.yaml"], "config file not found: nowhere.yaml"),
        ([], "give one of --sweep FILE"),
        (["--seeds", "1,2", "--sweep", "x.yaml"], "give one of --sweep FILE"),
        (["--seeds", "1,x"], "--seeds '1,x' is not accepted"),
        (["--seeds", "1,2", "--address", "http://head"], "--address 'http://head' is not accepted"),
        (["--seeds", "1,2", "--metric", "loss"], "unknown metric 'loss'"),
        (["--resume"], "--resume: no sweep of Isaac-Cartpole-v0"),
        (["--resume", "--seeds", "1"], "--resume continues a sweep with its own settings"),
        (["--seeds", "1", "--address", "auto", "--num_cpus", "2"], "--num_cpus sizes a local Ray"),
        (["--task", "Isaac-Cartpol-v0", "--seeds", "1"], "did you mean: Isaac-Cartpole-v0"),
        (["--seeds", "1", "env.scene.num_envs=4"], "key=value overrides (env.scene.num_envs=4) apply to a task source"),
        (["env.scene.num_envs=4", "--resume"], "--resume continues a sweep with its own overrides"),
    ],
)
def test_bad_flags_one_line_before_ray(args, expected, tmp_path, monkeypatch, capsys):
    code, err = run_inprocess(args, tmp_path, monkeypatch, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and expected in err, err


def test_sweep_file_in_the_repo_is_valid():
    agent_cfg = yaml.safe_load((REPO / "config" / "agents" / "sb3_ppo_cartpole.yaml").read_text())
    sweep = sw.load_sweep(REPO / "config" / "sweeps" / "cartpole_ppo.yaml", "Isaac-Cartpole-v0", agent_cfg, 64)
    assert sweep.scheduler.name == "asha" and sweep.metric == "rollout/ep_rew_mean"
    assert set(sweep.space) >= {"learning_rate", "num_envs"}
    with pytest.raises(ConfigError, match="grace_period must be 1 to stop_timesteps"):
        sw.load_sweep(
            REPO / "config" / "sweeps" / "cartpole_ppo.yaml", "Isaac-Cartpole-v0", agent_cfg, 64, stop_timesteps=10
        )


def test_sweep_default_is_the_tasks_sweep_file():
    agent_cfg = yaml.safe_load((REPO / "config" / "agents" / "sb3_ppo_cartpole.yaml").read_text())
    given = sw.load_sweep(REPO / "config" / "sweeps" / "cartpole_ppo.yaml", "Isaac-Cartpole-v0", agent_cfg, 64)
    assert sw.default_sweep("Isaac-Cartpole-v0", agent_cfg, 64) == given


def test_derived_space_is_around_the_agent_configs_values():
    """The space an isaaclab: task (no sweep file) sweeps: around its config's values, SB3's defaults for the rest."""
    space = sw.derived_space({"learning_rate": 3.0e-4, "n_epochs": 20, "gamma": 0.99})
    assert space["learning_rate"] == {"loguniform": [pytest.approx(1.0e-4), pytest.approx(9.0e-4)]}
    assert space["n_epochs"] == {"choice": [10, 20, 40]}
    assert space["gamma"] == {"uniform": [pytest.approx(0.98), pytest.approx(0.995)]}
    defaults = sw.derived_space({"learning_rate": "lin_3e-4"})  # a schedule is left as it is; PPO's 10 epochs
    assert "learning_rate" not in defaults and defaults["n_epochs"] == {"choice": [5, 10, 20]}
    sweep = sw.load_sweep("derived", "Isaac-Cartpole-v0", {"n_timesteps": 1000}, 8, data={"space": space})
    assert sweep.scheduler.name == "asha" and sweep.stop_timesteps == 1000


def test_a_process_runs_one_trial():
    """Isaac Lab keeps one simulation context per process: a second trial in a trial's process is refused."""
    sw._PROCESS_TRIAL.clear()
    try:
        sw.claim_process("a_00000")
        sw.claim_process("a_00000")  # the same trial (a restart in its own actor) is no second simulation
        with pytest.raises(RuntimeError, match=f"trial a_00001 was given process {os.getpid()}, where trial a_00000"):
            sw.claim_process("a_00001")
    finally:
        sw._PROCESS_TRIAL.clear()


def test_seeds_summary_is_mean_and_sample_std():
    sweep = sw.seeds_sweep("Isaac-Cartpole-v0", [1, 2, 3], {"n_timesteps": 1000}, 8, None, None)
    rows = [
        sw.TrialRow(f"t{i}", "DONE", {"seed": s}, 1000, None, final, 1.0, "")
        for i, (s, final) in enumerate([(1, 4.0), (2, 5.0)])
    ]
    rows.append(sw.TrialRow("t2", "ERROR", {"seed": 3}, 100, None, None, 1.0, "", error="ValueError: x"))
    assert sw.seeds_summary(rows, sweep) == (
        "final rollout/ep_rew_mean: 4.500 ± 0.707 over 2 seeds (no result for seeds 3)"
    )
    assert sw.parse_seeds("1,2,3") == [1, 2, 3]


def test_resumed_trial_continues_from_its_newest_run(tmp_path):
    """After Ctrl+C, --resume restarts an unfinished trial from its own newest run's model."""
    older, newer, other = (
        tmp_path / "2026-01-01_00-00-00",
        tmp_path / "2026-01-01_00-00-00_1",
        tmp_path / "2026-01-02_00-00-00",
    )
    for run, trial in ((older, "a"), (newer, "a"), (other, "b")):
        run.mkdir()
        (run / sw.TRIAL_MARKER).write_text(trial + "\n")
    (older / "model.zip").write_bytes(b"x")
    (newer / "model_512_steps.zip").write_bytes(b"x")  # killed before its model.zip: the newest checkpoint
    assert sw.previous_run_checkpoint(tmp_path, "a") == newer / "model_512_steps.zip"
    (newer / "model.zip").write_bytes(b"x")
    assert sw.previous_run_checkpoint(tmp_path, "a") == newer / "model.zip"
    assert sw.previous_run_checkpoint(tmp_path, "c") is None


def test_concurrency_limit_reaches_tune():
    """Tune ignores TuneConfig.max_concurrent_trials beside a BasicVariantGenerator: it must be set there."""
    agent_cfg = yaml.safe_load((REPO / "config" / "agents" / "sb3_ppo_cartpole.yaml").read_text())
    sweep = sw.seeds_sweep("Isaac-Cartpole-v0", [1, 2, 3], agent_cfg, 8, None, 1000)
    sweep.max_concurrent = 1
    config = sw.tune_config(sweep)
    assert config.search_alg.max_concurrent == 1 and config.max_concurrent_trials is None


def driver_results(session_dir: str) -> set[Path]:
    """Tune's result files on the driver: written and flushed as each result arrives (the copies under the
    sweep folder are synced from them at Tune's experiment checkpoints, seconds later)."""
    return {p for p in Path(session_dir).glob("artifacts/*/tune/driver_artifacts/*/result.json") if p.stat().st_size}


def test_ctrl_c_keeps_the_run_and_resume_finishes_it(ray_node, tmp_path):
    """Ctrl+C (SIGINT to tune.py's process group) mid-trial: the run saves model.zip, the sweep exits 130;
    --resume goes on from that model to the full budget, in a new run folder of the same trial.

    No race with the trial's speed: a trial reports after every rollout and waits inside that report until
    tune.py asks for the next one (Tune's synchronous reporting). Once tune.py holds the first result, the
    test stops it (SIGSTOP), sends Ctrl+C and lets it go on (SIGCONT): tune.py handles the signal at the end
    of its current loop step, so the trial is interrupted within a report or two of the one seen, far from
    the 128 reports (16 steps x 8 envs each) its budget takes."""
    args = [sys.executable, str(TUNE), "--seeds", "1", "--num_envs", "8", "--stop_timesteps", "16384"]
    earlier = driver_results(ray_node["session_dir"])
    proc = subprocess.Popen(
        [*args, "--address", ray_node["gcs_address"]],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # as a terminal's Ctrl+C: the signal goes to the whole process group
    )
    try:
        deadline = time.monotonic() + 300
        while not driver_results(ray_node["session_dir"]) - earlier:  # tune.py holds the trial's first result
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read() if proc.stdout else ""
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGSTOP)
        os.killpg(proc.pid, signal.SIGINT)  # pending until tune.py runs again
        os.killpg(proc.pid, signal.SIGCONT)
        out, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, out[-3000:]
    folder = sweep_dir_of(tmp_path)
    (row,) = table(folder)
    assert row["status"] == "UNFINISHED" and int(row["timesteps"]) < 16384, row
    assert (Path(row["run_dir"]) / "model.zip").is_file()  # saved as train.py's Ctrl+C saves it
    assert f"--resume {folder}" in out

    res = run_script(TUNE, "--resume", "--address", ray_node["gcs_address"], cwd=tmp_path, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (row,) = table(folder)
    assert row["status"] == "DONE" and int(row["timesteps"]) >= 16384, row
    runs = [p for p in folder.iterdir() if (p / sw.TRIAL_MARKER).is_file()]
    assert len(runs) == 2 and {(p / sw.TRIAL_MARKER).read_text() for p in runs} == {row["trial"] + "\n"}
    first, second = sorted(runs)
    assert Path(row["run_dir"]) == second and (second / "model.zip").is_file()
    assert "seed 1" not in res.stdout and "final rollout/ep_rew_mean" in res.stdout


def test_sweep_num_envs_are_capped_by_the_tasks_memory_per_env(tmp_path):
    """A num_envs value the cartpole fits and the humanoid (12x the memory each) does not: the humanoid's sweep
    file is refused naming it, the cartpole's accepted, before Ray starts."""
    from isaaclab_trainer.tasks import bytes_per_env, load_agent_cfg
    from isaaclab_trainer.train.checks import UsageError, max_num_envs

    count = 2 * max_num_envs(bytes_per_env=bytes_per_env("Isaac-Humanoid-v0"))  # margin: free memory moves
    path = write(tmp_path / "big.yaml", {"space": {"num_envs": {"choice": [8, count]}}})
    sweep = sw.load_sweep(path, "Isaac-Cartpole-v0", load_agent_cfg("Isaac-Cartpole-v0"), 64)
    assert sweep.space["num_envs"]
    with pytest.raises(UsageError, match=f"space.num_envs {count} needs about"):
        sw.load_sweep(path, "Isaac-Humanoid-v0", load_agent_cfg("Isaac-Humanoid-v0"), 64)
