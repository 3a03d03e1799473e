"""backend/agent.py is shipped to servers with old system Pythons: it must run on Python 3.8.

Three checks, from cheap to real: the source parses with the 3.8 grammar; a scan finds none of the
3.9+ syntax the 3.8 grammar check lets through nor the 3.9+ names and stdlib APIs listed below (the
list is what we know of, not everything); and when a Python 3.8 is on this machine (PATH or pyenv),
the agent runs under it on a fake root and reports what it reports under this Python.
"""

from __future__ import annotations

import ast
import glob
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from backend import agent
from tests.unit.test_agent import build_root

AGENT = Path(agent.__file__)

# modules added after 3.8
NEW_MODULES = {"zoneinfo": "3.9", "graphlib": "3.9", "tomllib": "3.11"}
# names imported from a module that it gained after 3.8
NEW_NAMES = {
    ("datetime", "UTC"): "3.11",
    ("functools", "cache"): "3.9", ("itertools", "pairwise"): "3.10", ("itertools", "batched"): "3.12",
    ("contextlib", "chdir"): "3.11", ("contextlib", "aclosing"): "3.10",
    ("os", "waitstatus_to_exitcode"): "3.9", ("random", "randbytes"): "3.9", ("math", "lcm"): "3.9",
    ("math", "nextafter"): "3.9", ("math", "ulp"): "3.9", ("asyncio", "to_thread"): "3.9", ("ast", "unparse"): "3.9",
    ("argparse", "BooleanOptionalAction"): "3.9", ("enum", "StrEnum"): "3.11", ("typing", "Annotated"): "3.9",
    ("typing", "ParamSpec"): "3.10", ("typing", "TypeAlias"): "3.10", ("typing", "TypeGuard"): "3.10",
    ("typing", "Concatenate"): "3.10", ("typing", "Self"): "3.11", ("typing", "Never"): "3.11",
    ("typing", "LiteralString"): "3.11", ("typing", "assert_never"): "3.11", ("typing", "reveal_type"): "3.11",
    ("typing", "Required"): "3.11", ("typing", "NotRequired"): "3.11", ("typing", "override"): "3.12",
    ("builtins", "aiter"): "3.10", ("builtins", "anext"): "3.10", ("builtins", "ExceptionGroup"): "3.11",
}
BUILTINS_NEW = {"aiter", "anext", "ExceptionGroup", "BaseExceptionGroup", "EncodingWarning"}
# methods added after 3.8 (on str, bytes, Path, int, dict views...)
NEW_METHODS = {"removeprefix": "3.9", "removesuffix": "3.9", "is_relative_to": "3.9", "with_stem": "3.9",
               "bit_count": "3.10", "hardlink_to": "3.10", "is_junction": "3.12", "walk_up": "3.12"}
# keyword arguments added after 3.8: (callee's last name, keyword)
NEW_KEYWORDS = {("zip", "strict"): "3.10", ("glob", "root_dir"): "3.10", ("glob", "include_hidden"): "3.11",
                ("run", "process_group"): "3.11", ("Popen", "process_group"): "3.11", ("dataclass", "slots"): "3.10",
                ("dataclass", "kw_only"): "3.10", ("ArgumentParser", "exit_on_error"): "3.9",
                ("is_relative_to", "walk_up"): "3.12", ("relative_to", "walk_up"): "3.12"}
GENERIC_BUILTINS = {"list", "dict", "tuple", "set", "frozenset", "type"}  # subscriptable at run time from 3.9
TYPE_NAMES = GENERIC_BUILTINS | {"str", "int", "float", "bool", "bytes", "object", "complex"}


def _dotted(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) or isinstance(node, ast.Attribute) and _dotted(node.value)


def _is_type_checking(test: ast.AST) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"
            or isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _last_name(node: ast.AST) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


def _typeish(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and node.value is None:
        return True
    if isinstance(node, ast.Name) and node.id in TYPE_NAMES:
        return True
    if isinstance(node, ast.Subscript):
        return _typeish(node.value)
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr) and (_typeish(node.left) or _typeish(node.right))


def py38_problems(src: str) -> list[str]:
    """What in `src` needs a Python newer than 3.8 (as far as this scan knows)."""
    try:
        tree = ast.parse(src, feature_version=(3, 8))
    except SyntaxError as exc:
        return [f"line {exc.lineno}: 3.8 grammar: {exc.msg}"]
    future_annotations = any(isinstance(n, ast.ImportFrom) and n.module == "__future__"
                             and any(a.name == "annotations" for a in n.names) for n in tree.body)
    abc_names: set[str] = set()
    problems: list[str] = []

    def flag(node: ast.AST, what: str) -> None:
        problems.append(f"line {getattr(node, 'lineno', '?')}: {what}")

    def visit(node: ast.AST, annotation: bool = False) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return  # the TYPE_CHECKING body never runs
        # 3.9+ syntax that ast.parse(feature_version=(3, 8)) lets through
        if type(node).__name__ in ("Match", "TryStar", "TypeAlias"):
            flag(node, f"{type(node).__name__} statement")
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for dec in node.decorator_list:
                if not (_dotted(dec) or isinstance(dec, ast.Call) and _dotted(dec.func)):
                    flag(dec, "relaxed decorator expression (3.9)")
        if isinstance(node, ast.Subscript) and (
                isinstance(node.slice, ast.Starred)
                or isinstance(node.slice, ast.Tuple) and any(isinstance(e, ast.Starred) for e in node.slice.elts)):
            flag(node, "starred subscript (3.11)")
        if annotation and isinstance(node, ast.Starred):
            flag(node, "starred annotation (3.11)")
        if isinstance(node, ast.For | ast.AsyncFor) and isinstance(node.iter, ast.Tuple) and any(
                isinstance(e, ast.Starred) for e in node.iter.elts):
            segment = ast.get_source_segment(src, node.iter) or ""
            if not segment.startswith("("):
                flag(node, "unparenthesized starred for-iterable (3.9)")
        # 3.9+ modules, names and APIs
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in NEW_MODULES:
                    flag(node, f"module {alias.name} ({NEW_MODULES[alias.name.split('.')[0]]})")
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in NEW_MODULES:
                flag(node, f"module {node.module}")
            for alias in node.names:
                if (node.module, alias.name) in NEW_NAMES:
                    flag(node, f"{node.module}.{alias.name} ({NEW_NAMES[(node.module, alias.name)]})")
                if node.module == "collections.abc":
                    abc_names.add(alias.asname or alias.name)
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and (node.value.id, node.attr) in NEW_NAMES:
                flag(node, f"{node.value.id}.{node.attr} ({NEW_NAMES[(node.value.id, node.attr)]})")
            if node.attr in NEW_METHODS:
                flag(node, f".{node.attr}() ({NEW_METHODS[node.attr]})")
        if isinstance(node, ast.Name) and node.id in BUILTINS_NEW and isinstance(node.ctx, ast.Load):
            flag(node, f"builtin {node.id}")
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                key = (_last_name(node.func), kw.arg or "")
                if key in NEW_KEYWORDS:
                    flag(node, f"{key[0]}({key[1]}=) ({NEW_KEYWORDS[key]})")
        # run-time evaluated typing spellings (annotations are not evaluated under the __future__ import)
        if not annotation:
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
                if _typeish(node):
                    flag(node, "`X | Y` type union evaluated at run time (3.10)")
                if any(isinstance(s, ast.Dict) or isinstance(s, ast.Call) and _last_name(s.func) == "dict"
                       for s in (node.left, node.right)):
                    flag(node, "dict union `|` (3.9)")
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and (
                    node.value.id in GENERIC_BUILTINS or node.value.id in abc_names):
                flag(node, f"{node.value.id}[...] evaluated at run time (3.9)")
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and (
                    _last_name(node.value.value) in ("abc", "collections") or node.value.attr in ("Pattern", "Match")):
                flag(node, f"{node.value.attr}[...] evaluated at run time (3.9)")
        for field, value in ast.iter_fields(node):
            is_ann = field in ("annotation", "returns") and future_annotations
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ast.AST):
                    visit(child, annotation or is_ann)

    visit(tree)
    return problems


@pytest.mark.parametrize("snippet", [
    "from datetime import UTC",
    "import datetime\nx = datetime.UTC",
    "x = 'a'.removeprefix('b')",
    "x = b'a'.removesuffix(b'b')",
    "import zoneinfo",
    "from zoneinfo import ZoneInfo",
    "from typing import Optional\nAlias = str | None",
    "x = isinstance(1, int | str)",
    "from collections.abc import Callable\nRunner = Callable[[str], None]",
    "Rows = list[dict]",
    "from __future__ import annotations\nimport collections.abc\nX = collections.abc.Sequence[int]",
    "match x:\n    case 1:\n        pass",
    "with (open('a') as f, open('b') as g):\n    pass",
    "d = {'a': 1} | other",
    "@buttons[0].clicked.connect\ndef f(): pass",
    "for x in *a, *b:\n    pass",
    "for pair in zip(a, b, strict=True):\n    pass",
    "import functools\n@functools.cache\ndef f(): pass",
    "def f(x: list[int]) -> None: pass\n",  # no __future__ import: evaluated at def time
])
def test_the_scan_catches_what_it_claims_to(snippet: str) -> None:
    assert py38_problems(snippet), snippet


@pytest.mark.parametrize("snippet", [
    "from __future__ import annotations\ndef f(x: list[int] | None) -> dict[str, int]: ...",
    "from __future__ import annotations\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    R = str | None",
    "flags = re.I | re.M",
    "for x in (*a, *b):\n    pass",
    "from datetime import timezone\nx = timezone.utc",
    "@functools.lru_cache(maxsize=None)\ndef f(): pass",
])
def test_the_scan_leaves_38_code_alone(snippet: str) -> None:
    assert py38_problems(snippet) == [], snippet


def test_the_agent_is_python_38_source() -> None:
    src = AGENT.read_text()
    assert "from __future__ import annotations" in src  # the annotations' newer spellings rely on it
    assert py38_problems(src) == []


def python38() -> str | None:
    """A working Python 3.8 interpreter (a pyenv shim may exist without the version being usable)."""
    pyenv = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = sorted(glob.glob(os.path.join(pyenv, "versions", "3.8*", "bin", "python3.8")), reverse=True)
    candidates += [p for p in (shutil.which("python3.8"),) if p]
    for candidate in candidates:
        try:
            proc = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"],
                                  capture_output=True, text=True, timeout=30)
        except OSError:
            continue
        if proc.returncode == 0 and proc.stdout.strip() == "(3, 8)":
            return candidate
    return None


def test_the_agent_runs_under_python_38(tmp_path: Path) -> None:
    interpreter = python38()
    if interpreter is None:
        pytest.skip("no Python 3.8 on this machine (PATH or pyenv): the source scan above still holds")
    root = tmp_path / "root"
    root.mkdir()
    build_root(root)
    out = tmp_path / "report.json"
    proc = subprocess.run([interpreter, "-W", "error::SyntaxWarning", str(AGENT), "--root", str(root),
                           "--output", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    old: dict[str, Any] = json.loads(out.read_text())
    here = agent.collect(str(root), runner=lambda cmd: None)
    for r in (old, here):
        r.pop("collected_at")
    assert old == here
