"""Hypothesis strategies and an in-process runner for fuzzing every input a user can type.

The argument strategies are derived from a script's real ``argparse`` parser (its flags, their
``type``, ``choices`` and ``nargs``); flags whose values mean something (a task, a device, a file)
get values of that kind, valid and not. The YAML strategies start from the real config files and
mutate them: unknown and mistyped keys, wrong types, nested garbage, boundary numbers, documents
that are not a mapping or not YAML.

:func:`run_in_process` runs a script's ``main()`` in this process, in a scratch working directory,
with its stdout and stderr captured. A run whose inputs are accepted goes on for real: the env is
built, the agent or policy is loaded, and a few env steps are taken; it is stopped at the script's
``stop_at`` function (the long loop: SB3's ``learn()`` or the play loop), which is the honest seam
between "checking the inputs and setting up the run" and "running it for its whole budget".
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import runpy
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from isaaclab_trainer.utils import printable

# -- values ---------------------------------------------------------------------------------------

#: integers at the edges of what code tends to assume (int32/uint32/int64 limits, huge)
EDGE_INTS = (0, 1, -1, 2, -2, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 10**30, -(2**63))
#: text a user may type where a number is expected
NUMBER_JUNK = ("", " ", "1.5", "1e3", "0x10", "nan", "inf", "-", "٣", "None", "true", " 8", "8 ", "1_000", "+4")
NUMBER_JUNK += ("1,000",)
#: text a shell can pass (no NUL, no lone surrogates)
_ALPHABET = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
short_text = st.text(_ALPHABET, max_size=12)
junk_text = st.one_of(st.sampled_from(NUMBER_JUNK), short_text)


def int_text(lo: int = -3, hi: int = 64) -> st.SearchStrategy[str]:
    """Integers as typed: small ones and edge ones."""
    return st.one_of(st.integers(lo, hi).map(str), st.sampled_from(EDGE_INTS).map(str))


TASK_VALUES = ("Isaac-Cartpole-v0", "Isaac-Cartpole-Direct-v0", "Isaac-Cartpole-v1", "isaac-cartpole-v0", "Cartpole")
DEVICE_VALUES = ("cpu", "cuda", "cuda:0", "cuda:1", "cuda:15", "gpu", "CUDA", "cpu:0", "cuda:-1", "cuda:", "mps", "")
DEVICE_VALUES += ("cuda:99999999999999999999", "cuda:0 ", "meta")


# -- files ----------------------------------------------------------------------------------------


@dataclass
class InputFiles:
    """Files a user may point a flag at, made once per test session (see ``make_input_files``)."""

    root: Path
    checkpoints: dict[str, Path]  # kind -> path ("valid" is a real model of the task)
    yaml_dir: Path  # where drawn YAML documents are written

    def checkpoint_paths(self) -> st.SearchStrategy[str]:
        """Every kind of checkpoint path: valid, missing, a folder, unreadable, not a zip, ..."""
        kinds = sorted(self.checkpoints)
        return st.one_of(
            st.sampled_from(kinds).map(lambda k: str(self.checkpoints[k])),
            st.sampled_from(("gone.zip", "", ".", "/", "/dev/null", "logs/model.zip", "best", "latest")),
        )

    def yaml_file(self, text: str) -> str:
        """Write ``text`` to a fresh file under :attr:`yaml_dir` and return its path."""
        n = len(list(self.yaml_dir.iterdir()))
        path = self.yaml_dir / f"drawn_{n}.yaml"
        path.write_text(text)
        return str(path)


def unreadable_file(folder: Path, name: str, content: bytes) -> Path:
    """A file whose reading fails even for root: ``/proc/self/mem`` (EIO at offset 0), else mode 000."""
    path = folder / name
    path.write_bytes(content)
    path.chmod(0)
    if os.geteuid() == 0:  # root ignores permission bits
        return Path("/proc/self/mem")
    return path


# -- argv from a parser ---------------------------------------------------------------------------


def _long_option(action: argparse.Action) -> str:
    return max(action.option_strings, key=len)


def value_strategy(
    action: argparse.Action, specials: dict[str, st.SearchStrategy[str]], junk: bool = True
) -> st.SearchStrategy[str]:
    """Text for one flag's value, from what the parser says it takes (and ``specials`` by dest);
    with ``junk``, sometimes text of another kind."""
    if action.dest in specials:
        kind = specials[action.dest]
    elif action.choices is not None:
        kind = st.sampled_from([str(c) for c in action.choices])
    elif action.type is not None and action.type is not str:
        kind = int_text()  # every typed flag of these scripts is an integer (positive_int or int)
    else:
        return junk_text
    return st.one_of(kind, kind, kind, junk_text) if junk else kind


def flag_strategy(
    action: argparse.Action, specials: dict[str, st.SearchStrategy[str]], junk: bool = True
) -> st.SearchStrategy[list[str]]:
    """One flag as typed: ``--flag value`` or ``--flag=value``; with ``junk`` also the flag without
    its value, a switch with a stray value, or a value of another kind."""
    opt = _long_option(action)
    if action.nargs == 0:  # store_true (and --help)
        return st.one_of(st.just([opt]), st.just([opt]), st.just([opt, "yes"])) if junk else st.just([opt])
    value = value_strategy(action, specials, junk)
    forms = [value.map(lambda v: [opt, v]), value.map(lambda v: [opt, v]), value.map(lambda v: [f"{opt}={v}"])]
    return st.one_of(*forms, st.just([opt])) if junk else st.one_of(*forms)


UNKNOWN_ARGS = ("--num-envs", "--tsak", "-x", "stray", "--Task", "--max_iter", "--", "--headless=1")


@st.composite
def argv_strategy(
    draw: Any, parser: argparse.ArgumentParser, specials: dict[str, st.SearchStrategy[str]], junk: bool = True
) -> list[str]:
    """A command line for ``parser``: a few of its real flags with drawn values. With ``junk``, also
    values of other kinds, missing values and unknown flags; without, every value is of its flag's
    kind (edges included), so more runs get past argparse to the checks behind it."""
    actions = [a for a in parser._actions if a.option_strings and a.dest != "help"]
    chosen = draw(st.lists(st.sampled_from(actions), min_size=1, max_size=5, unique_by=lambda a: a.dest))
    parts = [draw(flag_strategy(a, specials, junk)) for a in chosen]
    if junk and draw(st.integers(0, 9)) == 0:
        parts.append([draw(st.sampled_from(UNKNOWN_ARGS))])
    if junk and draw(st.integers(0, 49)) == 0:
        parts.append(["--help"])
    parts = draw(st.permutations(parts))
    return [token for part in parts for token in part]


# -- YAML documents -------------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from(EDGE_INTS),
    st.floats(allow_nan=True, allow_infinity=True),
    short_text,
)
#: nested garbage: lists and mappings of scalars, a few levels deep
garbage = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(short_text, inner, max_size=3)),
    max_leaves=6,
)
#: text that is not a YAML mapping, or not YAML at all
NOT_A_MAPPING = (
    "",
    "   \n",
    "- 1\n- 2\n",
    "just text",
    "42",
    "[1, 2",
    "key: [",
    "{a: 1",
    "a: b: c",
    "---\na: 1\n---\nb: 2\n",
    "? [a, b]\n: 1\n",
    "!!python/object/apply:os.system ['true']\n",
    "\t- x",
    "a: 1\na: 2\n",
    "%YAML 9.9\n---\na: 1\n",
)


def _near_misses(key: str) -> list[str]:
    return [key + "s", key[:-1], key.upper(), key.replace("_", "-"), f" {key}"]


def plausible_values(value: Any) -> st.SearchStrategy[Any]:
    """Values of the same kind as ``value`` (the shipped one), edges included."""
    if isinstance(value, bool):
        return st.one_of(st.booleans(), st.sampled_from((0, 1, "yes", "true", None)))
    if isinstance(value, int):
        return st.one_of(st.integers(-3, 64), st.sampled_from(EDGE_INTS))
    if isinstance(value, float):
        return st.one_of(
            st.floats(-10, 10),
            st.sampled_from((0.0, -0.0, 1e-12, -1.0, 1e12, float("nan"), float("inf"), -float("inf"))),
            st.integers(-2, 5),
        )
    if isinstance(value, list):
        item = plausible_values(value[0]) if value else _scalars
        return st.lists(item, max_size=4)
    if isinstance(value, dict):
        return mapping_variants(value, {})
    return st.one_of(st.just(value), short_text)


@st.composite
def mapping_variants(draw: Any, base: dict[str, Any], extra: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    """``base`` with up to three edits: a key dropped, misspelt or unknown, or set to a plausible
    value, a value of another type or nested garbage. ``extra`` adds keys the schema accepts with
    values to draw."""
    doc = dict(base)
    keys = sorted(set(base) | set(extra))
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(keys)) if keys else "key"
        kind = draw(st.sampled_from(("drop", "rename", "unknown", "plausible", "plausible", "garbage")))
        if kind == "drop":
            doc.pop(key, None)
        elif kind == "rename":
            doc[draw(st.sampled_from(_near_misses(key)))] = doc.pop(key, None)
        elif kind == "unknown":
            doc[draw(short_text)] = draw(garbage)
        elif kind == "plausible":
            doc[key] = draw(extra[key] if key in extra else plausible_values(base[key]))
        else:
            doc[key] = draw(garbage)
    return doc


def yaml_documents(
    base: dict[str, Any], extra: dict[str, st.SearchStrategy[Any]] | None = None
) -> st.SearchStrategy[str]:
    """YAML text for a config schema whose shipped document is ``base``: mostly edited mappings,
    sometimes documents that are not a mapping or not YAML."""
    mappings = mapping_variants(base, extra or {}).map(lambda d: yaml.safe_dump(d, sort_keys=False))
    return st.one_of(
        mappings,
        mappings,
        mappings,
        st.sampled_from(NOT_A_MAPPING),
        garbage.filter(lambda g: not isinstance(g, dict)).map(yaml.safe_dump),
    )


# -- running a script in-process ------------------------------------------------------------------


#: seconds one in-process run may take before it counts as a hang: a guard against hangs, not a speed check, so
#: far above a run that proceeds (< 2 s idle) and above a first env build compiling Warp's kernels on a loaded machine
RUN_TIMEOUT_S = 300


class Proceeded(Exception):
    """Raised at a script's ``stop_at`` seam: the inputs were accepted and the run was set up."""


@dataclass(frozen=True)
class Script:
    """One script under fuzzing: add a script by adding one of these to the test's table.

    ``stop_at`` is ``"module:function"``, the long loop the script calls once everything is set up
    (imported inside ``main()``, so replacing the module attribute reaches it); ``proceed`` gets
    that call's arguments and takes a few real steps before the run is stopped. ``specials`` map a
    flag's dest to the values it means (tasks, devices, files), for flags typed ``str``.
    """

    path: Path
    stop_at: str
    proceed: Callable[..., None]
    #: arguments every run gets (``--headless`` for the scripts that can open Isaac Sim's window)
    fixed_args: tuple[str, ...] = ("--headless",)
    parser: Callable[[dict[str, Any]], argparse.ArgumentParser] = lambda g: g["parser"]
    main: Callable[[dict[str, Any]], Callable[[], None]] = lambda g: g["main"]

    @property
    def prog(self) -> str:
        return self.path.name


_LOADED: dict[Path, dict[str, Any]] = {}


def script_globals(script: Script) -> dict[str, Any]:
    """The script's module namespace (its parser and ``main``), loaded once without running main."""
    if script.path not in _LOADED:
        _LOADED[script.path] = runpy.run_path(str(script.path), run_name="fuzzed_script")
    return _LOADED[script.path]


@contextlib.contextmanager
def replaced(target: str, replacement: Any) -> Iterator[Any]:
    """Replace ``module:attribute`` for the duration; yields the original."""
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    original = getattr(module, attr)
    setattr(module, attr, replacement)
    try:
        yield original
    finally:
        setattr(module, attr, original)


@contextlib.contextmanager
def working_dir(path: Path, env: dict[str, str]) -> Iterator[None]:
    """``chdir`` to ``path`` and set ``env`` variables, restoring both afterwards."""
    old_cwd, old_env = os.getcwd(), {k: os.environ.get(k) for k in env}
    os.chdir(path)
    os.environ.update(env)
    try:
        yield
    finally:
        os.chdir(old_cwd)
        for k, v in old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@dataclass
class Outcome:
    """How one in-process run ended."""

    code: int | str | None  # the SystemExit code, None when the run proceeded to the seam
    stdout: str
    stderr: str
    proceeded: bool = False
    envs: list[Any] = field(default_factory=list)


def run_in_process(script: Script, argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> Outcome:
    """Run ``script`` with ``argv`` as ``python script argv`` would, stopping at its seam.

    Anything other than ``SystemExit`` or reaching the seam propagates: that is a traceback the
    user would see, and the test fails with it.
    """
    glb = script_globals(script)
    built: list[Any] = []
    out, err = io.StringIO(), io.StringIO()

    def stop(*args: Any, **kwargs: Any) -> None:
        script.proceed(*args, **kwargs)
        raise Proceeded

    import isaaclab_trainer.train.trainer as trainer

    real_make_env = trainer.make_env

    def make_env(*args: Any, **kwargs: Any) -> Any:
        env_ = real_make_env(*args, **kwargs)
        built.append(env_)
        return env_

    def too_slow(*_: Any) -> None:
        raise TimeoutError(f"the run did not reach its seam within {RUN_TIMEOUT_S} s (a hang the inputs allowed?)")

    outcome = Outcome(code=None, stdout="", stderr="")
    old_argv = sys.argv
    old_alarm = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(RUN_TIMEOUT_S)
    sys.argv = [str(script.path), *argv]
    try:
        with (
            working_dir(cwd, env or {}),
            replaced(script.stop_at, stop),
            replaced("isaaclab_trainer.train.trainer:make_env", make_env),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            try:
                script.main(glb)()
                outcome.code = 0
            except SystemExit as exc:
                outcome.code = exc.code
            except Proceeded:
                outcome.proceeded = True
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old_alarm)
        sys.argv = old_argv
        for env_ in built:
            with contextlib.suppress(Exception):
                env_.close()
    outcome.stdout, outcome.stderr = out.getvalue(), err.getvalue()
    return outcome


def files_under(folder: Path) -> set[Path]:
    """Every path below ``folder`` (to prove a rejected run wrote nothing)."""
    return {p for p in folder.rglob("*")}


def assert_contract(outcome: Outcome, prog: str, argv: list[str], cwd: Path, names: list[str]) -> None:
    """The README's contract for one run: it proceeded normally (or printed help), or it printed
    exactly one line ``<prog>: error: ...`` naming a value it was given, exited with status 2, with
    no traceback and nothing written under ``cwd``."""
    context = f"argv={argv!r}\nstderr={outcome.stderr!r}"
    assert "Traceback" not in outcome.stderr, context
    if outcome.proceeded or outcome.code in (0, None):
        assert f"{prog}: error" not in outcome.stderr, context
        return
    assert outcome.code == 2, context
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1, context
    assert lines[0].startswith(f"{prog}: error: "), context
    message = lines[0][len(f"{prog}: error: ") :]
    parts = [p for a in argv for p in (a, *a.split("=", 1))]
    tokens = [t for p in parts for t in (p, p.lstrip("-")) if t.strip()] + names
    tokens += [f"'{p}'" for p in parts if not p.strip()]  # an empty value is named as ''
    tokens += [printable(t) for t in tokens]  # control characters are named escaped
    assert any(t in message for t in tokens), f"the message names none of the values given\n{context}"
    assert files_under(cwd) == set(), f"a rejected run wrote {sorted(files_under(cwd))}\n{context}"
