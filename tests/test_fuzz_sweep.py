"""The sweep file of ``tune.py --sweep FILE``, fuzzed (Hypothesis).

Sweep files are drawn from the shipped ``config/sweeps/cartpole_ppo.yaml`` and mutated: unknown and
misspelt keys, wrong types, empty/huge/negative/NaN/inf numbers, bad distributions and bounds,
empty choice lists, roots that are not a mapping, text that is not YAML or not UTF-8, control
characters, deep nesting, duplicate keys, YAML tags. For every file the contract holds: the checker
(:func:`sweep.load_sweep`) returns a :class:`sweep.Sweep` or raises a one-line ``ValueError``
(ConfigError / UsageError) naming the file, without importing Ray or building an env; and
``tune.py --sweep FILE`` either reaches the line where Ray is imported (nothing written yet) or
prints one line ``tune.py: error: ...`` naming the file and exits with status 2, without a
traceback and without writing anything.

Ray is made unimportable in every in-process run here (``sys.modules['ray'] = None``): an
accepted sweep stops at tune.py's ``from ray import tune``, the seam between checking the inputs and
starting Ray (``test_real_process`` confirms one verdict with a real process). Examples are
derandomized and bounded (the suite takes a few seconds). Failing examples Hypothesis found are kept
as regular tests (``FOUND_BY_FUZZING``).
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import runpy
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fuzzing import (
    EDGE_INTS,
    NOT_A_MAPPING,
    Outcome,
    assert_contract,
    files_under,
    garbage,
    mapping_variants,
    short_text,
    unreadable_file,
    working_dir,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from conftest import REPO, run_script
from isaaclab_trainer.tasks import load_agent_cfg
from isaaclab_trainer.train import sweep as sw

TUNE = REPO / "scripts" / "reinforcement_learning" / "ray" / "tune.py"
SHIPPED = REPO / "config" / "sweeps" / "cartpole_ppo.yaml"
SHIPPED_TEXT = SHIPPED.read_text()
BASE = yaml.safe_load(SHIPPED_TEXT)
TASK = "Isaac-Cartpole-v0"
AGENT = load_agent_cfg(TASK)
NUM_ENVS = 8

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)

# -- sweep documents ------------------------------------------------------------------------------

NAN, INF = float("nan"), float("inf")
#: numbers at the edges of what a bound, a factor or a count may be
EDGE_NUMBERS = (0, 0.0, -0.0, 1, -1, 1e-12, 1e-4, 1e-3, 0.5, 0.99, 1.0, 4, 1e308, -1e308, NAN, INF, -INF, 10**400)
EDGE_NUMBERS += EDGE_INTS
number = st.one_of(st.floats(-2, 2), st.integers(-3, 64), st.sampled_from(EDGE_NUMBERS))
#: what a user may write where a number is expected (YAML reads 1e-4 as text)
number_junk = st.sampled_from(("1e-4", "", "high", "0.1", None, True, [], {}, [1.0]))
any_number = st.one_of(number, number, number, number_junk)

KINDS = (*sw.SPACE_KINDS, "choise", "Uniform", "normal", "randint", "grid_search", "")
#: keys a space may name: agent-config keys, env keys, policy keys, and ones it may not
SPACE_KEYS = (*AGENT, "num_envs", "seed", "policy_kwargs.log_std_init", "policy_kwargs.net_arch", "policy_kwargs.x")
SPACE_KEYS += ("n_timesteps", "gamma.x", "policy_kwargs.", "n_step", "num-envs", "", " gamma")


@st.composite
def dimension(draw: Any) -> Any:
    """One entry of ``space``: mostly ``{kind: arg}``, with kinds and args of every sort."""
    kind = draw(st.sampled_from(KINDS))
    if kind in ("uniform", "loguniform", "Uniform"):
        arg = draw(
            st.one_of(
                st.tuples(number, number).map(list),
                st.tuples(number, number).map(sorted),
                st.lists(any_number, max_size=3),
                garbage,
            )
        )
    else:
        arg = draw(st.one_of(st.lists(any_number, max_size=4), st.lists(garbage, max_size=2), garbage))
    form = draw(st.integers(0, 9))
    if form == 0:
        return draw(garbage)  # not a mapping
    if form == 1:
        return {kind: arg, draw(st.sampled_from(KINDS)): arg}  # two kinds (or one)
    return {kind: arg}


space_strategy = st.one_of(
    st.dictionaries(st.one_of(st.sampled_from(SPACE_KEYS), short_text, st.integers(-1, 2)), dimension(), max_size=3),
    mapping_variants(BASE["space"], {k: dimension() for k in SPACE_KEYS}),
    garbage,
)
search_strategy = st.one_of(
    mapping_variants(
        BASE["search"],
        {
            "algorithm": st.sampled_from(("random", "grid", "bayes", "Random", "")),
            "seed": st.one_of(st.none(), st.integers(-3, 64), st.sampled_from(EDGE_INTS), number_junk),
        },
    ),
    garbage,
)
scheduler_strategy = st.one_of(
    mapping_variants(
        BASE["scheduler"],
        {
            "name": st.sampled_from(("asha", "fifo", "hyperband", "ASHA", "")),
            "grace_period": st.one_of(st.none(), st.integers(-3, 64), st.sampled_from(EDGE_INTS), any_number),
            "reduction_factor": any_number,
        },
    ),
    garbage,
)
TOP_EXTRA = {
    "space": space_strategy,
    "search": search_strategy,
    "scheduler": scheduler_strategy,
    "metric": st.sampled_from((*sw.METRICS, "ep_rew_mean", "rollout/ep_rew_mean ", "", "train/loss\n")),
    "mode": st.sampled_from(("max", "min", "maximum", "MAX", "")),
    "stop_timesteps": st.one_of(st.none(), st.integers(-3, 64), st.sampled_from(EDGE_INTS), any_number),
}


def _dump(doc: Any) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


#: YAML tags a user may paste (the safe loader refuses the python/* ones)
TAGGED = (
    "space: !!python/object:os.system {}\n",
    "space:\n  gamma: !!python/name:os.system\n",
    "space: !!python/object/apply:os.system ['true']\n",
    "space:\n  gamma: {choice: !!set {0.9: null}}\n",
    "space:\n  n_epochs: {choice: [!!float 5]}\n",
    "space:\n  gamma: {choice: [!!binary aGk=]}\n",
    "stop_timesteps: !!timestamp 2001-13-14\n" + "space: {gamma: {choice: [0.9]}}\n",
    "stop_timesteps: !!str 200000\n" + "space: {gamma: {choice: [0.9]}}\n",
    "space: !custom {gamma: {choice: [0.9]}}\n",
)
CONTROL_CHARACTERS = ("\x00", "\x07", "\x1b", "\x7f", "\x85", "\u2028", "\ufeff", "\t", "\r", "\ud800")


@st.composite
def edited_text(draw: Any) -> str:
    """The shipped file's text with a line duplicated (duplicate keys), a character inserted, or
    nesting added: mutations a mapping cannot express."""
    lines = SHIPPED_TEXT.splitlines(keepends=True)
    kind = draw(st.sampled_from(("duplicate", "control", "nest", "digits")))
    i = draw(st.integers(0, len(lines) - 1))
    if kind == "duplicate":
        return "".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
    if kind == "control":
        at = draw(st.integers(0, len(SHIPPED_TEXT)))
        return SHIPPED_TEXT[:at] + draw(st.sampled_from(CONTROL_CHARACTERS)) + SHIPPED_TEXT[at:]
    if kind == "nest":
        depth = draw(st.sampled_from((2, 50, 500, 3000)))
        opener, closer = draw(st.sampled_from((("[", "]"), ("{a: ", "}"))))
        return SHIPPED_TEXT + f"extra: {opener * depth}1{closer * depth}\n"
    return SHIPPED_TEXT.replace("200000", "9" * draw(st.sampled_from((20, 400, 4301, 5000))))


def sweep_documents() -> st.SearchStrategy[str | bytes]:
    """Sweep files: mostly the shipped document edited, sometimes raw text or bytes."""
    mappings = mapping_variants(BASE, TOP_EXTRA).map(_dump)
    return st.one_of(
        mappings,
        mappings,
        mappings,
        mappings,
        edited_text(),
        st.sampled_from(NOT_A_MAPPING),
        st.sampled_from(TAGGED),
        garbage.filter(lambda g: not isinstance(g, dict)).map(_dump),
        st.sampled_from((b"\xff\xfe\x00s", SHIPPED_TEXT.encode("utf-16"), "gamma: \xe9".encode("latin-1"))),
    )


@st.composite
def valid_sweeps(draw: Any) -> dict[str, Any]:
    """Sweep files every rule accepts (ranges within what the agent config takes)."""
    lo = draw(st.floats(1e-6, 1e-3))
    dims = {
        "learning_rate": {"loguniform": [lo, lo * draw(st.floats(1.5, 100))]},
        "gamma": {"uniform": sorted(draw(st.lists(st.floats(0.8, 0.999), min_size=2, max_size=2, unique=True)))},
        "n_epochs": {draw(st.sampled_from(("choice", "grid"))): draw(st.lists(st.integers(1, 20), min_size=1))},
        "num_envs": {"choice": draw(st.lists(st.integers(1, 16), min_size=1, max_size=3))},
        "policy_kwargs.log_std_init": {"uniform": [-2.0, draw(st.floats(-1.5, 1.0))]},
    }
    keys = draw(st.lists(st.sampled_from(sorted(dims)), min_size=1, unique=True))
    stop = draw(st.integers(1, 10**6))
    doc: dict[str, Any] = {"space": {k: dims[k] for k in keys}}
    optional = {
        "metric": st.sampled_from(sw.METRICS),
        "mode": st.sampled_from(sw.MODES),
        "search": st.fixed_dictionaries(
            {}, optional={"seed": st.integers(0, 2**32 - 1), "algorithm": st.just("random")}
        ),
        "scheduler": st.fixed_dictionaries(
            {},
            optional={
                "name": st.sampled_from(sw.SCHEDULERS),
                "grace_period": st.integers(1, stop),
                "reduction_factor": st.one_of(st.integers(2, 8), st.floats(1.01, 10)),
            },
        ),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            doc[key] = draw(strategy)
    doc["stop_timesteps"] = stop
    return doc


# -- running the checker and tune.py with the heavy work blocked -------------------------------------


def event(value: str) -> None:
    """Hypothesis's statistics (``--hypothesis-show-statistics``); a no-op in the example tests."""
    if currently_in_test_context():
        hypothesis_event(value)


class HeavyWork(AssertionError):
    """An env was built while sweep input was still being checked."""


def _refuse(*_: Any, **__: Any) -> None:
    raise HeavyWork("an env was built before the sweep's inputs were checked")


@contextlib.contextmanager
def heavy_work_blocked() -> Iterator[None]:
    """Ray unimportable, env construction refused: the checks must need neither."""
    import gymnasium

    import isaaclab_trainer.train.trainer as trainer

    saved = sys.modules.get("ray", "absent")
    sys.modules["ray"] = None  # type: ignore[assignment]  # import ray -> ImportError
    patches = [(gymnasium, "make"), (trainer, "make_env"), (sw, "make_env")]
    originals = [getattr(mod, name) for mod, name in patches]
    for mod, name in patches:
        setattr(mod, name, _refuse)
    try:
        yield
    finally:
        for (mod, name), original in zip(patches, originals, strict=True):
            setattr(mod, name, original)
        if saved == "absent":
            sys.modules.pop("ray", None)
        else:
            sys.modules["ray"] = saved  # type: ignore[assignment]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz_sweep")


def write_sweep(folder: Path, content: str | bytes) -> Path:
    path = folder / f"sweep_{len(list(folder.iterdir()))}.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, errors="surrogatepass")
    return path


def check_sweep(path: Path) -> sw.Sweep | None:
    """``load_sweep`` on ``path``: a Sweep, or None after a one-line ValueError that names the file."""
    try:
        with heavy_work_blocked():
            sweep = sw.load_sweep(path, TASK, AGENT, NUM_ENVS)
    except ValueError as exc:  # ConfigError, UsageError
        message = str(exc)
        assert len(message.splitlines()) == 1, repr(message)
        assert message.isprintable(), repr(message)
        assert str(path) in message, f"the message does not name the file: {message}"
        event("refused")
        return None
    assert_checked(sweep)
    event("accepted")
    return sweep


def assert_checked(sweep: sw.Sweep) -> None:
    """What every accepted sweep holds (what Tune is then given)."""
    assert isinstance(sweep, sw.Sweep) and sweep.space
    assert sweep.metric in sw.METRICS and sweep.mode in sw.MODES
    assert isinstance(sweep.stop_timesteps, int) and sweep.stop_timesteps >= 1
    assert sweep.search.algorithm in sw.SEARCH_ALGORITHMS
    assert sweep.search.seed is None or 0 <= sweep.search.seed <= 2**32 - 1
    assert sweep.scheduler.name in sw.SCHEDULERS
    assert 1 < sweep.scheduler.reduction_factor < INF
    assert sweep.scheduler.grace_period is None or 1 <= sweep.scheduler.grace_period <= sweep.stop_timesteps
    for key, spec in sweep.space.items():
        assert isinstance(key, str) and len(spec) == 1, (key, spec)
        ((kind, arg),) = spec.items()
        assert kind in sw.SPACE_KINDS and isinstance(arg, list) and arg, (key, spec)
        if kind in ("uniform", "loguniform"):
            low, high = arg
            assert math.isfinite(high - low) and low < high, (key, spec)
            assert kind == "uniform" or low > 0, (key, spec)


@pytest.fixture(scope="module")
def tune_main() -> Any:
    """tune.py's ``main`` (its module loaded once, not run)."""
    return runpy.run_path(str(TUNE), run_name="fuzzed_tune")["main"]


def run_tune(main: Any, argv: list[str], cwd: Path) -> Outcome:
    """``tune.py argv`` in-process with Ray unimportable: stopping at ``from ray import tune`` is
    the seam (every input checked, nothing written, Ray not started)."""
    out, err = io.StringIO(), io.StringIO()
    outcome = Outcome(code=None, stdout="", stderr="")
    old_argv, sys.argv = sys.argv, [str(TUNE), *argv]
    try:
        with (
            working_dir(cwd, {}),
            heavy_work_blocked(),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            try:
                main()
                outcome.code = 0
            except SystemExit as exc:
                outcome.code = exc.code
            except ImportError as exc:
                if exc.name != "ray":
                    raise
                outcome.proceeded = True
    finally:
        sys.argv = old_argv
    outcome.stdout, outcome.stderr = out.getvalue(), err.getvalue()
    return outcome


def check_cli(main: Any, argv: list[str], names: list[str]) -> Outcome:
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        outcome = run_tune(main, argv, cwd)
        event("reached Ray" if outcome.proceeded else f"exit {outcome.code}")
        assert_contract(outcome, "tune.py", argv, cwd, names)
        assert files_under(cwd) == set(), f"tune.py wrote {sorted(files_under(cwd))} before Ray started"
    return outcome


# -- the properties ---------------------------------------------------------------------------------


@settings(FUZZ, max_examples=200)
@given(content=sweep_documents())
def test_sweep_file_checker(folder, content):
    """Any sweep file: a checked Sweep, or one line naming the file; no Ray, no env."""
    check_sweep(write_sweep(folder, content))


@settings(FUZZ, max_examples=40)
@given(doc=valid_sweeps())
def test_valid_sweep_files_parse(folder, doc):
    """Sweep files within every rule parse into the Sweep they describe."""
    sweep = check_sweep(write_sweep(folder, _dump(doc)))
    assert sweep is not None, doc
    assert sweep.space == doc["space"] and sweep.stop_timesteps == doc["stop_timesteps"]
    assert sweep.metric == doc.get("metric", "rollout/ep_rew_mean") and sweep.mode == doc.get("mode", "max")
    assert sweep.search.seed == doc.get("search", {}).get("seed")
    assert sweep.scheduler.name == doc.get("scheduler", {}).get("name", "asha")


CLI_EXTRA = ([], ["--num_envs", "8"], ["--stop_timesteps", "2048"], ["--metric", "train/loss"], ["--num_samples", "2"])


@settings(FUZZ, max_examples=60)
@given(content=sweep_documents(), extra=st.sampled_from(CLI_EXTRA))
def test_tune_cli_sweep_file(folder, tune_main, content, extra):
    """``tune.py --sweep FILE``: reaches Ray's import having written nothing, or one line, status 2."""
    path = write_sweep(folder, content)
    check_cli(tune_main, ["--sweep", str(path), *extra], [str(path)])


def test_shipped_sweep_reaches_ray(folder, tune_main):
    """The shipped file through the same runner gets to Ray (the harness is not vacuous)."""
    assert check_sweep(SHIPPED) is not None
    assert check_cli(tune_main, ["--sweep", str(SHIPPED)], []).proceeded


@pytest.mark.parametrize("kind", ["missing", "empty", "folder", "unreadable", "/dev/null"])
def test_tune_cli_sweep_paths(folder, tune_main, kind):
    """Paths that are not a readable sweep file: one line naming the path (/dev/null is an empty file)."""
    path = {
        "missing": str(folder / "gone.yaml"),
        "empty": "",
        "folder": str(folder),
        "unreadable": str(unreadable_file(folder, "unreadable.yaml", SHIPPED_TEXT.encode())),
        "/dev/null": os.devnull,
    }[kind]
    outcome = check_cli(tune_main, ["--sweep", path], [])
    assert outcome.code == 2


@pytest.fixture(scope="module")
def record() -> dict[str, Any]:
    """The record tune.py writes for the shipped sweep (what ``--resume`` reads back)."""
    with tempfile.TemporaryDirectory() as tmp:
        sw.write_record(sw.load_sweep(SHIPPED, TASK, AGENT, NUM_ENVS), AGENT, Path(tmp))
        return yaml.safe_load((Path(tmp) / sw.SWEEP_RECORD).read_text())


def test_record_round_trip(record):
    """A record read back is the sweep written (run_trial rebuilds its Sweep the same way)."""
    sweep = sw.Sweep.from_dict(record["sweep"])
    assert sweep.to_dict() == record["sweep"] and sweep == sw.load_sweep(SHIPPED, TASK, AGENT, NUM_ENVS)
    seeds = sw.seeds_sweep(TASK, [1, 2, 3], AGENT, NUM_ENVS, None, 1000)
    seeds.max_concurrent, seeds.num_samples = 2, 3
    assert sw.Sweep.from_dict(yaml.safe_load(yaml.safe_dump(seeds.to_dict()))) == seeds


@settings(FUZZ, max_examples=40)
@given(data=st.data())
def test_tune_cli_resume_record(tune_main, record, data):
    """``tune.py --resume DIR`` whose sweep.yaml is edited (or not a record): reaches Ray, or one line."""
    edited = data.draw(
        st.one_of(
            mapping_variants(record, {}),
            st.builds(lambda sweep: {**record, "sweep": sweep}, mapping_variants(record["sweep"], {})),
            st.just(BASE),
        ),
        label="record",
    )
    with tempfile.TemporaryDirectory() as tmp:
        sweep_dir = Path(tmp)
        (sweep_dir / "tune").mkdir()
        (sweep_dir / sw.SWEEP_RECORD).write_text(_dump(edited))
        check_cli(tune_main, ["--resume", str(sweep_dir)], [str(sweep_dir)])


# -- failing examples the properties found, kept as regular tests ------------------------------------

GOOD = "space:\n  learning_rate: {loguniform: [1.0e-4, 1.0e-3]}\n"
#: (sweep file, words the one-line message must hold)
FOUND_BY_FUZZING: dict[str, tuple[str | bytes, list[str]]] = {
    "search seed below 0": (GOOD + "search: {seed: -1}\n", ["search.seed must be an integer from 0 to 4294967295"]),
    "search seed above numpy's range": (GOOD + "search: {seed: 4294967296}\n", ["got 4294967296"]),
    "reduction_factor NaN": (GOOD + "scheduler: {reduction_factor: .nan}\n", ["must be a finite number > 1, got nan"]),
    "reduction_factor inf": (GOOD + "scheduler: {reduction_factor: .inf}\n", ["must be a finite number > 1, got inf"]),
    "reduction_factor beyond float": (
        GOOD + "scheduler: {reduction_factor: " + "9" * 400 + "}\n",
        ["'reduction_factor' must be a float (at most 1.79769e+308), got 999"],
    ),
    "stop_timesteps 0": (GOOD + "stop_timesteps: 0\n", ["stop_timesteps must be an integer >= 1, got 0"]),
    "bound beyond float": (
        "space:\n  gamma: {uniform: [0, " + "9" * 400 + "]}\n",
        ["space.gamma: uniform bound must be a finite number, got 999"],
    ),
    "infinite bound": ("space:\n  gamma: {uniform: [-.inf, .inf]}\n", ["bound must be a finite number, got -inf"]),
    "infinite loguniform bound": (
        "space:\n  learning_rate: {loguniform: [1.0e-4, .inf]}\n",
        ["bound must be a finite number, got inf"],
    ),
    "NaN bound": ("space:\n  gamma: {uniform: [.nan, 0.99]}\n", ["bound must be a finite number, got nan"]),
    "bounds too far apart": (
        "space:\n  gamma: {uniform: [-1.0e+308, 1.0e+308]}\n",
        ["uniform needs high - low to be a finite number, got [-1e+308, 1e+308]"],
    ),
    "deep nesting": ("space: " + "[" * 3000 + "]" * 3000 + "\n", ["is nested too deeply"]),
    "duplicate key": (GOOD + "space: {gamma: {choice: [0.9]}}\n", ["(line 3): key 'space' is given twice"]),
    "duplicate distribution": (
        "space:\n  gamma: {choice: [0.9], choice: [0.8]}\n",
        ["key 'choice' is given twice (accepted: each key once)"],
    ),
    "integer of 5000 digits": (
        GOOD + "stop_timesteps: " + "9" * 5000 + "\n",
        ["holds a value that cannot be read (Exceeds the limit (4300 digits)"],
    ),
    "impossible date": (GOOD + "stop_timesteps: !!timestamp 2001-13-14\n", ["holds a value that cannot be read"]),
}
#: (sweep.yaml of a folder given to --resume, words the message must hold)
RESUME_FOUND_BY_FUZZING = {
    "a sweep file, not a record": (SHIPPED_TEXT, ["is not a sweep record written by tune.py", "give --resume"]),
    "record without search": (
        "sweep: {task: Isaac-Cartpole-v0}\nagent_cfg: {}\nargv: []\n",
        ["sweep.yaml: sweep: missing key 'space'"],
    ),
    "record that is a list": ("sweep: [1]\nagent_cfg: {}\nargv: []\n", ["is not a sweep record written by tune.py"]),
}


@pytest.mark.parametrize("case", list(FOUND_BY_FUZZING))
def test_found_by_fuzzing(folder, tune_main, case):
    content, expected = FOUND_BY_FUZZING[case]
    path = write_sweep(folder, content)
    outcome = check_cli(tune_main, ["--sweep", str(path)], [str(path)])
    assert outcome.code == 2, outcome.stderr
    line = outcome.stderr.strip()
    assert line.startswith(f"tune.py: error: {path}"), line
    for text in expected:
        assert text in line, (text, line)


def test_real_process(folder, tune_main, tmp_path):
    """The in-process verdict holds for a real ``python tune.py`` (exit status, stderr, nothing written)."""
    path = write_sweep(folder, FOUND_BY_FUZZING["duplicate key"][0])
    res = run_script(TUNE, "--sweep", str(path), cwd=tmp_path, timeout=120)
    in_process = check_cli(tune_main, ["--sweep", str(path)], [str(path)])
    assert res.returncode == in_process.code == 2, res.stderr
    assert res.stderr.strip() == in_process.stderr.strip() and "Traceback" not in res.stderr
    assert not (tmp_path / "logs").exists()


@pytest.mark.parametrize("case", list(RESUME_FOUND_BY_FUZZING))
def test_resume_found_by_fuzzing(tune_main, tmp_path, case):
    text, expected = RESUME_FOUND_BY_FUZZING[case]
    sweep_dir = tmp_path / "sweep"
    (sweep_dir / "tune").mkdir(parents=True)
    (sweep_dir / sw.SWEEP_RECORD).write_text(text)
    outcome = check_cli(tune_main, ["--resume", str(sweep_dir)], [str(sweep_dir)])
    assert outcome.code == 2, outcome.stderr
    for text in expected:
        assert text in outcome.stderr, (text, outcome.stderr)
