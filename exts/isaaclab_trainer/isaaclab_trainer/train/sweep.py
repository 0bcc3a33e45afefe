"""Seed and hyperparameter sweeps on Ray Tune: the sweep file, the trial, the table of results.

Each trial is an ordinary training run (:func:`~.trainer.setup_training` + :func:`~.trainer.run_learning`,
as train.py) in a Ray worker process, with its usual run folder under
``logs/ray/<task>/<sweep-timestamp>/`` and an SB3 callback that reports the mean return and the
timesteps to Tune after every rollout, so that ASHA can stop weak trials early.

Ray is the optional ``[ray]`` extra and is imported only inside functions: importing this module,
like everything the Kit extension uses, never needs it.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import dataclasses
import inspect
import json
import math
import os
import shlex
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.utils import safe_mean

from isaaclab_trainer.tasks import bytes_per_env, load_env_cfg, override_env_cfg, sweep_cfg_path, task_spec
from isaaclab_trainer.tasks.isaaclab.configs import split_overrides
from isaaclab_trainer.utils import ConfigError, closest_names, dataclass_from_dict, load_yaml

from .checks import UsageError, check_checkpoint, check_count, check_num_envs, check_seed, resolve_seed
from .runs import FINAL_MODEL, claim_run_dir, newest_checkpoint_in
from .sb3_cfg import process_sb3_cfg
from .trainer import TrainingInterrupted, make_env, run_learning, setup_training

#: the distributions a search-space entry may use (Ray Tune's of the same names; grid = grid_search)
SPACE_KINDS = ("choice", "uniform", "loguniform", "grid")
SEARCH_ALGORITHMS = ("random",)  # Tune's BasicVariantGenerator: random sampling, and grid entries in full
SCHEDULERS = ("asha", "fifo")
MODES = ("max", "min")
#: what a trial reports to Tune after every rollout: SB3's logger keys (the previous update's
#: train/* values) plus the rollout means over SB3's episode buffer, and the step count
METRICS = (
    "rollout/ep_rew_mean",
    "rollout/ep_len_mean",
    "train/approx_kl",
    "train/clip_fraction",
    "train/clip_range",
    "train/entropy_loss",
    "train/explained_variance",
    "train/learning_rate",
    "train/loss",
    "train/policy_gradient_loss",
    "train/std",
    "train/value_loss",
)
TIME_ATTR = "timesteps"
ENV_KEYS = ("num_envs",)
#: file names inside a sweep folder
SWEEP_RECORD, TABLE_CSV, BEST_AGENT, TRIAL_MARKER = "sweep.yaml", "trials.csv", "best_agent.yaml", "trial_id.txt"
#: ``--sweep default``: the task's own search space (:func:`default_sweep`)
DEFAULT_SWEEP = "default"


@dataclass
class SearchCfg:
    """``search:`` of a sweep file: how configurations are drawn."""

    algorithm: str = "random"
    #: seed of the draws themselves (the same sweep file then draws the same configurations)
    seed: int | None = None


@dataclass
class SchedulerCfg:
    """``scheduler:`` of a sweep file: ASHA stops trials whose metric trails at each rung."""

    name: str = "asha"
    #: timesteps every trial trains before ASHA may stop it (default: a tenth of the budget)
    grace_period: int | None = None
    reduction_factor: float = 4.0


@dataclass
class SweepFile:
    """A sweep file's top level (YAML keys of the same names)."""

    space: dict[str, Any] = field(default_factory=dict)
    metric: str = "rollout/ep_rew_mean"
    mode: str = "max"
    #: timesteps per trial (default: the agent config's n_timesteps)
    stop_timesteps: int | None = None
    search: dict[str, Any] = field(default_factory=dict)
    scheduler: dict[str, Any] = field(default_factory=dict)


@dataclass
class Sweep:
    """A checked sweep: what Tune is given, in plain data (written to the sweep folder for --resume)."""

    task: str
    space: dict[str, dict[str, Any]]
    metric: str
    mode: str
    stop_timesteps: int
    search: SearchCfg
    scheduler: SchedulerCfg
    num_samples: int = 1
    max_concurrent: int | None = None
    #: a seeds sweep (``--seeds``): the task's own config once per seed, summarized as mean ± std
    seeds: list[int] | None = None
    #: a task source's ``key=value`` overrides (``env.scene.robot.spawn.usd_path=...``), given to every trial
    overrides: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "sweep record") -> Sweep:
        """The Sweep :meth:`to_dict` gave; ConfigError naming the key when ``data`` is not one."""
        data = dict(data)
        for key, sub in (("search", SearchCfg), ("scheduler", SchedulerCfg)):
            value = data.get(key, {})
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: '{key}' must be a mapping, got {value!r}")
            data[key] = dataclass_from_dict(sub, value, source=f"{source}: {key}")
        return dataclass_from_dict(cls, data, source=source)


# -- the sweep file --------------------------------------------------------------------------------


def _pick(name: object, accepted: tuple[str, ...], what: str, source: str) -> str:
    if name in accepted:
        return str(name)
    close = closest_names(str(name), list(accepted), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise ConfigError(f"{source}: unknown {what} {name!r}{hint} (accepted: {', '.join(accepted)})")


def check_metric(metric: str, source: str = "--metric") -> str:
    """``metric`` if a trial reports it, else ConfigError naming the closest."""
    return _pick(metric, METRICS, "metric", source)


def _number(value: Any, where: str) -> float:
    """A finite number (a bound of a distribution), else ConfigError naming ``value``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond float's range
            number = math.inf
        if math.isfinite(number):
            return number
        raise ConfigError(f"{where} must be a finite number, got {value!r}")
    hint = ""
    if isinstance(value, str):
        try:
            float(value)
            hint = f" (YAML reads {value} as text: write it with a dot, e.g. {float(value)!r})"
        except ValueError:
            pass
    raise ConfigError(f"{where} must be a number, got {value!r}{hint}")


def _set_key(cfg: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` in an agent config; ``policy_kwargs.<name>`` sets a key of that mapping."""
    head, _, tail = key.partition(".")
    if tail:
        cfg[head] = dict(cfg.get(head) or {})
        cfg[head][tail] = value
    else:
        cfg[key] = value


def apply_overrides(agent_cfg: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``agent_cfg`` with a trial's drawn values (env keys such as num_envs left out)."""
    cfg = copy.deepcopy(agent_cfg)
    for key, value in config.items():
        if key not in ENV_KEYS:
            _set_key(cfg, key, value)
    return cfg


def _check_value(key: str, value: Any, agent_cfg: dict[str, Any], num_envs: int, where: str, task: str) -> None:
    """One value a trial may get, through the same checks as an agent config (or ``--num_envs``, with the
    task's memory per env)."""
    if key == "num_envs":
        check_num_envs(value, name=where.partition(" (")[0], bytes_per_env=bytes_per_env(task))
        return
    process_sb3_cfg(apply_overrides(agent_cfg, {key: value}), num_envs, source=where, bytes_per_env=bytes_per_env(task))


def _check_dimension(
    key: str, spec: Any, agent_cfg: dict[str, Any], num_envs: int, source: str, task: str
) -> dict[str, Any]:
    where = f"{source}: space.{key}"
    if "." in key and key.partition(".")[0] != "policy_kwargs":
        raise ConfigError(f"{where}: only policy_kwargs.<name> keys may have a dot")
    forms = "{choice: [a, b]}, {grid: [a, b]}, {uniform: [low, high]} or {loguniform: [low, high]}"
    if not isinstance(spec, dict) or len(spec) != 1:
        raise ConfigError(f"{where} must be one of {forms}, got {spec!r}")
    kind, arg = next(iter(spec.items()))
    kind = _pick(kind, SPACE_KINDS, "distribution", where)
    if kind in ("choice", "grid"):
        if not isinstance(arg, list) or not arg:
            raise ConfigError(f"{where}: {kind} takes a non-empty list of values, got {arg!r}")
        for value in arg:
            _check_value(key, value, agent_cfg, num_envs, f"{where} ({kind} value {value!r})", task)
        return {kind: arg}
    if not isinstance(arg, list) or len(arg) != 2:
        raise ConfigError(f"{where}: {kind} takes [low, high], got {arg!r}")
    low, high = (_number(v, f"{where}: {kind} bound") for v in arg)
    if not low < high:
        raise ConfigError(f"{where}: {kind} needs low < high, got [{low:g}, {high:g}]")
    if not math.isfinite(high - low):  # Tune draws low + (high - low) * u
        raise ConfigError(f"{where}: {kind} needs high - low to be a finite number, got [{low:g}, {high:g}]")
    if kind == "loguniform" and low <= 0:
        raise ConfigError(f"{where}: loguniform needs low > 0, got {low:g}")
    for value in (low, high, (low + high) / 2):  # a drawn value is a float between the bounds
        _check_value(key, value, agent_cfg, num_envs, f"{where} ({kind} draws floats such as {value:g})", task)
    return {kind: [low, high]}


def load_sweep(
    path: str | Path,
    task: str,
    agent_cfg: dict[str, Any],
    num_envs: int,
    *,
    metric: str | None = None,
    stop_timesteps: int | None = None,
    data: dict[str, Any] | None = None,
) -> Sweep:
    """Read and check a sweep file (ConfigError naming the key or value) before Ray starts; ``data``: its mapping
    when it is not read from a file (``path`` then only names it in errors).

    Every key of ``space`` must be an agent-config key (``policy_kwargs.<name>`` for the policy's)
    or ``num_envs``, and every value a trial can draw passes the agent config's own checks.
    """
    source = str(path)
    if data is None:
        data = load_yaml(path)
    top = dataclass_from_dict(SweepFile, data, source=source)
    search = dataclass_from_dict(SearchCfg, top.search, source=f"{source}: search")
    scheduler = dataclass_from_dict(SchedulerCfg, top.scheduler, source=f"{source}: scheduler")
    _pick(search.algorithm, SEARCH_ALGORITHMS, "search algorithm", f"{source}: search.algorithm")
    _pick(scheduler.name, SCHEDULERS, "scheduler", f"{source}: scheduler.name")
    mode = _pick(top.mode, MODES, "mode", f"{source}: mode")
    metric = check_metric(metric, "--metric") if metric is not None else check_metric(top.metric, f"{source}: metric")
    if not top.space:
        raise ConfigError(
            f"{source}: 'space' names no key to sweep (e.g. space: {{learning_rate: {{loguniform: [1.0e-4, 1.0e-3]}}}})"
        )
    space = {}
    for key, spec in top.space.items():
        if key in ("n_timesteps",):
            raise ConfigError(
                f"{source}: space.{key}: every trial trains stop_timesteps (--stop_timesteps); sweep other keys"
            )
        space[str(key)] = _check_dimension(str(key), spec, agent_cfg, num_envs, source, task)
    if top.stop_timesteps is not None:
        check_count(top.stop_timesteps, f"{source}: stop_timesteps")
    if search.seed is not None:
        check_seed(search.seed, f"{source}: search.seed", random_ok=False)
    budget = stop_timesteps or top.stop_timesteps or int(process_sb3_cfg(agent_cfg, num_envs).n_timesteps)
    check_count(budget, f"{source}: stop_timesteps")
    if scheduler.grace_period is not None and not 1 <= scheduler.grace_period <= budget:
        raise ConfigError(
            f"{source}: scheduler.grace_period must be 1 to stop_timesteps ({budget}), got {scheduler.grace_period}"
        )
    if not 1 < scheduler.reduction_factor < math.inf:  # NaN fails too
        raise ConfigError(
            f"{source}: scheduler.reduction_factor must be a finite number > 1, got {scheduler.reduction_factor:g}"
        )
    return Sweep(task, space, metric, mode, int(budget), search, scheduler)


def seeds_sweep(
    task: str,
    seeds: list[int],
    agent_cfg: dict[str, Any],
    num_envs: int,
    metric: str | None,
    stop_timesteps: int | None,
) -> Sweep:
    """The task's own config once per seed (no early stopping: every seed runs to the end)."""
    budget = stop_timesteps or int(process_sb3_cfg(agent_cfg, num_envs).n_timesteps)
    return Sweep(
        task,
        {"seed": {"grid": list(seeds)}},
        check_metric(metric or "rollout/ep_rew_mean"),
        "max",
        budget,
        SearchCfg(),
        SchedulerCfg(name="fifo"),
        seeds=list(seeds),
    )


def derived_space(agent_cfg: dict[str, Any]) -> dict[str, Any]:
    """A PPO search space around an agent config's own values (SB3's PPO defaults where it has none): the
    learning rate from a third to three times its value, half to twice the epochs, and a discount whose
    horizon 1 / (1 - gamma) runs from half to twice the config's. For a task that brings no sweep file."""
    from stable_baselines3 import PPO

    defaults = inspect.signature(PPO).parameters
    value = {key: agent_cfg.get(key, defaults[key].default) for key in ("learning_rate", "n_epochs", "gamma")}
    space: dict[str, Any] = {}
    rate = value["learning_rate"]
    if isinstance(rate, (int, float)) and not isinstance(rate, bool) and rate > 0:  # not a "lin_3e-4" schedule
        space["learning_rate"] = {"loguniform": [rate / 3, rate * 3]}
    epochs = value["n_epochs"]
    if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs >= 1:
        space["n_epochs"] = {"choice": sorted({max(1, epochs // 2), epochs, epochs * 2})}
    gamma = value["gamma"]
    if isinstance(gamma, (int, float)) and not isinstance(gamma, bool) and 0 < gamma < 1:
        space["gamma"] = {"uniform": [max(0.0, 1 - 2 * (1 - gamma)), 1 - (1 - gamma) / 2]}
    return space


def default_sweep(
    task: str,
    agent_cfg: dict[str, Any],
    num_envs: int,
    *,
    metric: str | None = None,
    stop_timesteps: int | None = None,
) -> Sweep:
    """``--sweep default``: the task's own sweep file (``config/sweeps/``), or for a task that brings none (a task
    source's, e.g. ``isaaclab:<id>``) :func:`derived_space` of its agent config, ASHA over its ``n_timesteps``."""
    path = sweep_cfg_path(task) if task_spec(task).sweep_file is not None else None
    return load_sweep(
        path or f"{task}'s default search space (derived from its agent config)",
        task,
        agent_cfg,
        num_envs,
        metric=metric,
        stop_timesteps=stop_timesteps,
        data=None if path else {"space": derived_space(agent_cfg), "search": {"seed": 0}},
    )


def parse_seeds(text: str) -> list[int]:
    """``--seeds 1,2,3`` -> [1, 2, 3]; UsageError naming what is accepted."""
    try:
        seeds = [check_seed(int(s), name="--seeds value", random_ok=False) for s in text.split(",") if s.strip()]
    except ValueError:
        seeds = []
    if not seeds or len(set(seeds)) != len(seeds):
        raise UsageError(
            f"--seeds '{text}' is not accepted (accepted: distinct integers from 0 to 2**32 - 1 separated by commas, "
            "e.g. 1,2,3)"
        )
    return seeds


# -- Tune objects (Ray imported here only) --------------------------------------------------------------


def param_space(sweep: Sweep) -> dict[str, Any]:
    """The sweep's space as Ray Tune domains."""
    from ray import tune

    domains = {"choice": tune.choice, "grid": tune.grid_search}
    space = {}
    for key, spec in sweep.space.items():
        kind, arg = next(iter(spec.items()))
        space[key] = domains[kind](arg) if kind in domains else getattr(tune, kind)(*arg)
    return space


def tune_config(sweep: Sweep) -> Any:
    """Tune's TuneConfig: metric, search algorithm, scheduler (ASHA over timesteps), samples, concurrency."""
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler
    from ray.tune.search.basic_variant import BasicVariantGenerator

    if sweep.scheduler.name == "asha":
        scheduler: Any = ASHAScheduler(
            time_attr=TIME_ATTR,
            max_t=sweep.stop_timesteps,
            grace_period=sweep.scheduler.grace_period or max(1, sweep.stop_timesteps // 10),
            reduction_factor=sweep.scheduler.reduction_factor,
            stop_last_trials=False,  # a trial that reaches the budget ends itself (and saves model.zip)
        )
    else:
        scheduler = FIFOScheduler()
    return tune.TuneConfig(
        metric=sweep.metric,
        mode=sweep.mode,
        # Tune ignores max_concurrent_trials when given a BasicVariantGenerator: the limit goes here
        search_alg=BasicVariantGenerator(random_state=sweep.search.seed, max_concurrent=sweep.max_concurrent or 0),
        scheduler=scheduler,
        num_samples=sweep.num_samples,
        # a new actor, and so a new worker process (Ray ends an actor's process with it), for every trial: Isaac
        # Lab keeps one simulation context per process (run_trial refuses a second trial in one process)
        reuse_actors=False,
    )


def trainable(sweep: Sweep, sweep_dir: Path, agent_cfg: dict[str, Any], argv: list[str]) -> Any:
    """:func:`run_trial` bound to this sweep, one CPU per trial."""
    from ray import tune

    spec = {"sweep": sweep.to_dict(), "sweep_dir": str(sweep_dir), "agent_cfg": agent_cfg, "argv": argv}
    return tune.with_resources(tune.with_parameters(run_trial, spec=spec), {"cpu": 1})


# -- one trial (in a Ray worker process) -----------------------------------------------------------


class TuneReportCallback(BaseCallback):
    """After every rollout, report SB3's metrics and the timesteps to Tune (what ASHA decides on).

    Tune ends a stopped trial (ASHA, Ctrl+C) inside ``report``; that ends ``learn()`` the way
    Ctrl+C does in train.py, so the run still saves its ``model.zip``.
    """

    def __init__(self, metric: str, run_dir: Path):
        super().__init__()
        self.metric = metric
        self.run_dir = str(run_dir)
        self.reported = False
        self.stopped = False

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        metrics: dict[str, Any] = {
            k: float(v) for k, v in self.model.logger.name_to_value.items() if isinstance(v, (int, float))
        }
        if self.model.ep_info_buffer:
            metrics["rollout/ep_rew_mean"] = float(safe_mean([ep["r"] for ep in self.model.ep_info_buffer]))
            metrics["rollout/ep_len_mean"] = float(safe_mean([ep["l"] for ep in self.model.ep_info_buffer]))
        if self.metric not in metrics:  # e.g. no episode has finished yet
            return
        self._report(metrics)

    def _report(self, metrics: dict[str, Any]) -> None:
        from ray import tune

        metrics[TIME_ATTR] = int(self.num_timesteps)
        metrics["run_dir"] = self.run_dir
        self.reported = True
        try:
            tune.report(metrics)
        except SystemExit:  # Tune ends this trial's thread from inside report()
            self.stopped = True
            raise TrainingInterrupted from None

    def report_if_silent(self) -> None:
        """A run too short to finish an episode still tells Tune its timesteps and run folder (the
        metric as NaN), so the table lists it as done."""
        if not self.reported and not self.stopped:
            with contextlib.suppress(TrainingInterrupted):
                self._report({self.metric: math.nan})


def previous_run_checkpoint(sweep_dir: Path, trial_id: str) -> Path | None:
    """The newest checkpoint of this trial's earlier run, when a resumed sweep restarts it."""
    for run in sorted(sweep_dir.iterdir(), reverse=True):
        marker = run / TRIAL_MARKER
        if marker.is_file() and marker.read_text().strip() == trial_id:
            final = run / FINAL_MODEL
            return final if final.is_file() else newest_checkpoint_in(run)
    return None


#: the trial this process ran: one a process, since Isaac Lab keeps one simulation context per process
_PROCESS_TRIAL: list[str] = []


def claim_process(trial_id: str) -> None:
    """Mark this process as ``trial_id``'s; RuntimeError naming both when it already ran another trial."""
    if _PROCESS_TRIAL and _PROCESS_TRIAL[0] != trial_id:
        raise RuntimeError(
            f"trial {trial_id} was given process {os.getpid()}, where trial {_PROCESS_TRIAL[0]} ran: each trial needs "
            "a fresh process (Isaac Lab keeps one simulation context per process; Tune's reuse_actors must be False)"
        )
    _PROCESS_TRIAL[:] = [trial_id]


def run_trial(config: dict[str, Any], spec: dict[str, Any]) -> None:
    """One trial: train.py's run with the drawn values, in its own run folder under the sweep's.

    A trial that the sweep is resuming (``--resume`` after Ctrl+C) goes on from its earlier run's
    newest checkpoint, as ``train.py --checkpoint`` does, in a new run folder.
    """
    from ray import tune

    sweep = Sweep.from_dict(spec["sweep"])
    sweep_dir = Path(spec["sweep_dir"])
    trial_id = tune.get_context().get_trial_id()
    claim_process(trial_id)
    agent_cfg = apply_overrides(spec["agent_cfg"], config)
    agent_cfg["n_timesteps"] = sweep.stop_timesteps  # params/agent.yaml records the trial's real budget
    num_envs = int(config["num_envs"]) if "num_envs" in config else None
    env_cfg = override_env_cfg(
        load_env_cfg(sweep.task),
        "sweep trial",
        num_envs=num_envs,
        seed=agent_cfg.get("seed"),
        overrides=tuple(sweep.overrides) or None,  # recorded in the run's params/env.yaml, replayed by play.py
    )
    env_cfg.seed = resolve_seed(env_cfg.seed)  # a config's -1: drawn here, so the trial's params/ record it
    if agent_cfg.get("seed") is not None:
        agent_cfg["seed"] = env_cfg.seed
    previous = previous_run_checkpoint(sweep_dir, trial_id)
    checkpoint = check_checkpoint(previous, sweep.task) if previous is not None else None
    env = make_env(sweep.task, env_cfg)
    try:
        run_dir = claim_run_dir(sweep_dir)
        report = TuneReportCallback(sweep.metric, run_dir)
        setup = setup_training(
            env,
            sweep.task,
            env_cfg,
            agent_cfg,
            run_dir,
            checkpoint=checkpoint,
            summary_write=None,
            extra_callbacks=[report],
            argv=spec["argv"],
        )
        (run_dir / TRIAL_MARKER).write_text(trial_id + "\n")
        if checkpoint is not None:  # only what is left of the budget
            setup.total_timesteps = max(1, sweep.stop_timesteps - setup.agent.num_timesteps)
        run_learning(setup)
        report.report_if_silent()
    finally:
        env.close()


# -- results ----------------------------------------------------------------------------------------


@dataclass
class TrialRow:
    """One line of the trial table."""

    trial: str
    status: str
    config: dict[str, Any]
    timesteps: int | None
    best: float | None
    final: float | None
    wall_s: float | None
    run_dir: str
    error: str = ""
    #: Tune's folder of the trial (its ``error.txt`` holds a failed trial's traceback)
    tune_dir: str = ""


def _error_line(error: BaseException) -> str:
    """The exception that ended a trial, in one line: its type and first line, without Ray's traceback."""
    cause = error
    while getattr(cause, "cause", None) is not None:
        cause = cause.cause
    lines = [ln.strip() for ln in str(cause).strip().splitlines() if ln.strip()]
    text = f"{type(cause).__name__}: {lines[0] if lines else ''}".strip()
    return text if len(text) <= 240 else text[:237] + "..."


def _trial_config(result: Any) -> dict[str, Any]:
    """A trial's drawn values; for one interrupted before its first result, from Tune's ``params.json``."""
    if result.config:
        return result.config
    params = Path(result.path) / "params.json"
    return json.loads(params.read_text()) if params.is_file() else {}


def trial_rows(results: Any, sweep: Sweep) -> list[TrialRow]:
    """The table of a Tune ResultGrid: config, timesteps, best and final metric, wall time, error."""
    rows = []
    for result in results:
        metrics = result.metrics or {}
        frame = result.metrics_dataframe
        values = frame[sweep.metric].dropna().tolist() if frame is not None and sweep.metric in frame else []
        best = (max if sweep.mode == "max" else min)(values) if values else None
        if result.error is not None:
            status = "ERROR"
        elif metrics.get("done"):
            status = "STOPPED" if values and metrics.get(TIME_ATTR, 0) < sweep.stop_timesteps else "DONE"
        else:
            status = "UNFINISHED"
        trial = metrics.get("trial_id") or Path(result.path).name
        rows.append(
            TrialRow(
                trial=str(trial),
                status=status,
                config={k: _trial_config(result).get(k) for k in sweep.space},
                timesteps=metrics.get(TIME_ATTR),
                best=best,
                final=values[-1] if values else None,
                wall_s=metrics.get("time_total_s"),
                run_dir=str(metrics.get("run_dir", "")),
                error=_error_line(result.error) if result.error is not None else "",
                tune_dir=str(result.path),
            )
        )
    return sorted(rows, key=lambda r: r.trial)


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}" if not math.isnan(value) else "nan"
    return str(value)


def write_table(rows: list[TrialRow], sweep: Sweep, path: Path) -> None:
    """The trial table as CSV (one column per swept key)."""
    keys = list(sweep.space)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "trial",
                "status",
                *keys,
                "timesteps",
                f"best {sweep.metric}",
                f"final {sweep.metric}",
                "wall_s",
                "run_dir",
                "error",
            ]
        )
        for r in rows:
            writer.writerow(
                [
                    r.trial,
                    r.status,
                    *(r.config.get(k) for k in keys),
                    r.timesteps,
                    r.best,
                    r.final,
                    r.wall_s,
                    r.run_dir,
                    r.error,
                ]
            )


def print_table(rows: list[TrialRow], sweep: Sweep, write=print) -> None:
    """The trial table on the terminal (run folders relative to the sweep folder)."""
    keys = list(sweep.space)
    header = ["trial", "status", *keys, "timesteps", f"best {sweep.metric}", "wall s", "run"]
    body = [
        [
            r.trial,
            r.status,
            *(_fmt(r.config.get(k)) for k in keys),
            _fmt(r.timesteps),
            _fmt(r.best),
            _fmt(r.wall_s),
            Path(r.run_dir).name or "-",
        ]
        for r in rows
    ]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *body, strict=True)]
    for line in [header, *body]:
        write("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
    for r in rows:
        if r.error:
            write(f"trial {r.trial} failed: {r.error} (traceback: {Path(r.tune_dir) / 'error.txt'})")


def best_row(rows: list[TrialRow], sweep: Sweep) -> TrialRow | None:
    """The trial with the best value of the metric (over its whole run) among those that ended (done or
    stopped early by the scheduler); failed and interrupted trials never count."""
    scored = [r for r in rows if r.status in ("DONE", "STOPPED") and r.best is not None and not math.isnan(r.best)]
    if not scored:
        return None
    return (max if sweep.mode == "max" else min)(scored, key=lambda r: r.best)


def write_best_agent(row: TrialRow, agent_cfg: dict[str, Any], sweep: Sweep, path: Path) -> None:
    """``best_agent.yaml``: the task's agent config with the best trial's values, for ``train.py --agent``. Its
    command repeats the sweep's env overrides and preset selectors, not its ``agent.`` ones: those are in the file
    already, under the trial's values, and train.py applies overrides after loading ``--agent``."""
    cfg = apply_overrides(agent_cfg, row.config)
    cfg["n_timesteps"] = sweep.stop_timesteps
    num_envs = row.config.get("num_envs")
    flag = f" --num_envs {num_envs}" if num_envs is not None else ""
    selectors, values = split_overrides(sweep.overrides, "sweep")
    repeated = [*selectors, *(f"{key}={value}" for key, value in values if not key.startswith("agent."))]
    flag += "".join(f" {shlex.quote(item)}" for item in repeated)
    header = (
        f"# Best trial {row.trial} of the sweep in {path.parent} (best {sweep.metric}: {_fmt(row.best)}).\n"
        f"# Train with it: ./isaaclab.sh -p scripts/reinforcement_learning/sb3/train.py --task {sweep.task}"
        f" --agent {path}{flag} --headless\n"
    )
    path.write_text(header + yaml.safe_dump(cfg, sort_keys=False))


def seeds_summary(rows: list[TrialRow], sweep: Sweep) -> str:
    """``final <metric>: mean ± std over N seeds`` (sample std), and which seeds failed."""
    finals = [r.final for r in rows if r.final is not None and not r.error]
    failed = [str(r.config.get("seed")) for r in rows if r.error or r.final is None]
    if not finals:
        return f"final {sweep.metric}: no seed has a value (failed, or too short to end an episode)"
    std = statistics.stdev(finals) if len(finals) > 1 else 0.0
    text = f"final {sweep.metric}: {statistics.fmean(finals):.3f} ± {std:.3f} over {len(finals)} seeds"
    return text + (f" (no result for seeds {', '.join(failed)})" if failed else "")


def write_record(sweep: Sweep, agent_cfg: dict[str, Any], sweep_dir: Path) -> None:
    """What ``--resume`` needs to rebuild the same trials: the checked sweep and the base agent config."""
    record = {"sweep": sweep.to_dict(), "agent_cfg": agent_cfg, "argv": list(sys.argv)}
    (sweep_dir / SWEEP_RECORD).write_text(yaml.safe_dump(record, sort_keys=False))


def read_record(sweep_dir: Path) -> tuple[Sweep, dict[str, Any], list[str]]:
    """What :func:`write_record` wrote; ConfigError naming the file when it is not such a record."""
    path = sweep_dir / SWEEP_RECORD
    record = load_yaml(path)
    data, agent_cfg, argv = (record.get(k) for k in ("sweep", "agent_cfg", "argv"))
    if not isinstance(data, dict) or not isinstance(agent_cfg, dict) or not isinstance(argv, list):
        raise ConfigError(
            f"{path} is not a sweep record written by tune.py (accepted: mappings 'sweep' and 'agent_cfg' and "
            "a list 'argv'); give --resume a sweep folder tune.py made"
        )
    return Sweep.from_dict(data, source=f"{path}: sweep"), agent_cfg, argv
