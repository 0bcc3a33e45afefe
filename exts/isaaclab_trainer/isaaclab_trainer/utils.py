"""Small shared helpers: where the YAML configs live, strict YAML → dataclass loading."""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import sys
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")


def printable(text: str) -> str:
    """``text`` with line breaks and other control characters escaped (``\\n``, ``\\x85``): a
    value typed with one of them must not break the one-line message that names it."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class ConfigError(ValueError):
    """A config file or value is not what the code accepts; the message (one line) names it."""

    def __init__(self, message: str) -> None:
        super().__init__(printable(str(message)))


#: the largest seed: seeds reach numpy's legacy seeding (SB3's ``set_random_seed``), which takes 0 .. 2**32 - 1
SEED_MAX = 2**32 - 1


def is_seed(value: Any, random_ok: bool = False) -> bool:
    """True for an int numpy, torch and SB3 all take as a seed (and -1, "draw one", if ``random_ok``)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return 0 <= value <= SEED_MAX or (random_ok and value == -1)


def is_number(value: Any) -> bool:
    """True for an int or float (not a bool): what a numeric field takes."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def config_dir() -> Path:
    """The repo's ``config/`` folder (``$ISAACLAB_TRAINER_CONFIG`` overrides it)."""
    override = os.environ.get("ISAACLAB_TRAINER_CONFIG")
    if override:
        return Path(override)
    # <repo>/exts/isaaclab_trainer/isaaclab_trainer/utils.py -> <repo>/config
    return Path(__file__).resolve().parents[3] / "config"


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in one mapping is an error: plain
    ``safe_load`` keeps the last value and drops the first without a word."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue  # '<<' merges may be overridden; unhashable keys fail in PyYAML itself
            key = self.construct_object(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice (accepted: each key once)", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: str | os.PathLike) -> dict[str, Any]:
    """Read a YAML mapping, with one clear error when the file is missing or not YAML."""
    if not str(path).strip():
        raise ConfigError(f"config file path '{path}' is empty (accepted: the path of a YAML file)")
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(f"config file '{path}' cannot be read ({reason})") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: no tags beyond plain data
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"{path} is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    except RecursionError:  # PyYAML composes nested collections recursively
        raise ConfigError(f"{path} is nested too deeply (accepted: lists and mappings a few levels deep)") from None
    except ValueError as exc:  # a value PyYAML cannot construct, e.g. an integer of more than 4300 digits
        reason = str(exc).split(";")[0]
        raise ConfigError(f"{path} holds a value that cannot be read ({reason})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a YAML mapping (key: value), got {type(data).__name__}")
    return data


def _type_ok(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin in (tuple, list):
        args = typing.get_args(hint)
        if not isinstance(value, (list, tuple)):
            return False
        if origin is tuple and args and args[-1] is not Ellipsis:
            return len(value) == len(args) and all(_type_ok(v, a) for v, a in zip(value, args, strict=True))
        return all(_type_ok(v, args[0]) for v in value) if args else True
    if origin is dict:
        return isinstance(value, dict)
    return isinstance(value, hint)


def did_you_mean(key: object, accepted: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the accepted name closest to an unknown ``key``, or "" if none is close."""
    close = difflib.get_close_matches(str(key), sorted(accepted), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def dataclass_from_dict(cls: type[T], data: dict[str, Any], source: str = "config") -> T:
    """Build dataclass ``cls`` from ``data``, rejecting unknown keys and wrong value types."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            hint = did_you_mean(key, fields) or f"; accepted keys: {', '.join(fields)}"
            raise ConfigError(f"{source}: unknown key '{key}'{hint}")
        if not _type_ok(value, hints[key]):
            expected = getattr(hints[key], "__name__", str(hints[key]))
            raise ConfigError(f"{source}: '{key}' must be {expected}, got {value!r}")
        if typing.get_origin(hints[key]) is tuple and isinstance(value, list):
            value = tuple(value)
        try:
            kwargs[key] = float(value) if hints[key] is float else value
        except OverflowError:  # an integer beyond float's range
            raise ConfigError(
                f"{source}: '{key}' must be a float (at most {sys.float_info.max:g}), got {value!r}"
            ) from None
    missing = [name for name, f in fields.items() if name not in kwargs and _no_default(f)]
    if missing:
        raise ConfigError(f"{source}: missing key {', '.join(repr(m) for m in missing)}")
    return cls(**kwargs)


def _no_default(f: dataclasses.Field) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def one_line(exc: BaseException) -> str:
    """``"RuntimeError: first line of the message"``: what a status line shows of an error."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def closest_names(name: str, choices: list[str], n: int = 3) -> list[str]:
    """Registered names that look like ``name`` (case-insensitive), best first."""
    lowered = {c.lower(): c for c in choices}
    return [lowered[m] for m in difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.4)]


def resolve_matching_values(
    values: float | dict[str, float], names: typing.Sequence[str], default: float, what: str = "value"
) -> list[float]:
    """One value per name from a scalar (every name) or a ``{regex: value}`` table, as Isaac Lab resolves
    joint-name keyed settings (``resolve_matching_names_values``): a pattern must match a whole name, a name
    matched by two patterns and a pattern matching no name are errors, unmatched names take ``default``.
    Multi-axis joints are one name per axis (``<joint>:<axis>``), so ``".*_thigh:1"`` picks one axis."""
    if not isinstance(values, dict):
        return [float(values)] * len(names)
    out: list[float | None] = [None] * len(names)
    owner: list[str | None] = [None] * len(names)
    for pattern, value in values.items():
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"{what}: '{pattern}' is not a regular expression ({exc})") from None
        hits = [i for i, name in enumerate(names) if regex.fullmatch(name)]
        if not hits:
            raise ConfigError(f"{what}: '{pattern}' matches no joint (joints: {', '.join(names)})")
        for i in hits:
            if owner[i] is not None:
                raise ConfigError(f"{what}: '{names[i]}' is matched by both '{owner[i]}' and '{pattern}'")
            owner[i], out[i] = pattern, float(value)
    return [default if v is None else v for v in out]
