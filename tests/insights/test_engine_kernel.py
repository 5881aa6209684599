"""The engine kernel's boundaries (issue 26): section modules read through its public names.

Before the kernel, about 50 private names of insights.queries (`queries._rows`,
`queries._cached`, ...) were borrowed by the other sections: a change to one silently changed
them all. These tests fail when a module reaches into another's private names again.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from insights.engine import cache

ROOT = Path(__file__).resolve().parents[2]
# The modules every figure depends on: nobody outside one of them reads its private names.
KERNEL_AND_SECTIONS = {
    "insights.queries",
    "insights.rollup",
    "insights.engine",
    "insights.engine.cache",
    "insights.engine.db",
    "insights.engine.distinct",
    "insights.engine.numbers",
    "insights.engine.warm",
    "insights.lifecycle",
    "insights.service",
    "insights.customer_value",
    "insights.clv",
    "insights.forecast",
    "insights.owners",
    "insights.health",
    "insights.incremental",
    "insights.segment_figures",
    "insights.customer_filters",
    "insights.figures",
    "insights.sqlite_functions",
}
PACKAGES = ("insights", "customers", "deals", "chats", "imports", "privacy", "demo", "bench")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    """The absolute name `from <node.module> import ...` refers to inside `module`."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_borrowings(path: Path) -> list[str]:
    """`from kernel_module import _x` and `kernel_module._x` in one source file."""
    module = _module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases: dict[str, str] = {}  # local name -> kernel module it is bound to
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _absolute(module, node, path.name == "__init__.py")
            for alias in node.names:
                target = f"{source}.{alias.name}"
                if target in KERNEL_AND_SECTIONS:
                    aliases[alias.asname or alias.name] = target
                elif source in KERNEL_AND_SECTIONS and source != module and _private(alias.name):
                    found.append(f"{module}:{node.lineno} from {source} import {alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in KERNEL_AND_SECTIONS and alias.asname:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and aliases[node.value.id] != module
            and _private(node.attr)
        ):
            found.append(f"{module}:{node.lineno} {aliases[node.value.id]}.{node.attr}")
    return found


def _sources() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def test_no_module_borrows_a_private_name_of_the_kernel_or_a_section():
    borrowed = [line for path in _sources() for line in private_borrowings(path)]
    assert borrowed == []


def test_the_check_finds_a_borrowed_name(tmp_path, monkeypatch):
    # given: a module written the old way (the check itself must be able to fail)
    package = tmp_path / "insights"
    package.mkdir()
    source = package / "example.py"
    source.write_text(
        "from . import queries\nfrom .rollup import _day\nfrom .engine import db\n"
        "x = queries._rows('SELECT 1', {})\ny = db._zoned\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    # when / then
    assert sorted(private_borrowings(source)) == [
        "insights.example:2 from insights.rollup import _day",
        "insights.example:4 insights.queries._rows",
        "insights.example:5 insights.engine.db._zoned",
    ]


def _answer(*row_fields: tuple[str, type]) -> type:
    """An answer dataclass `Answer(total, rows: list[Row])` with the given Row fields."""
    row = dataclasses.make_dataclass("Row", row_fields, frozen=True)
    return dataclasses.make_dataclass("Answer", [("total", int), ("rows", list[row])], frozen=True)


def test_a_cache_key_changes_with_the_answer_it_is_read_into():
    # given: the same figure's answer, and the next version whose nested row gains a field
    before = _answer(("n", int))
    same = _answer(("n", int))
    after = _answer(("n", int), ("share", str))
    # then: another version with no number bumped by hand; the same shape, the same version
    assert cache.shape_version(after) != cache.shape_version(before)
    assert cache.shape_version(same) == cache.shape_version(before)


def test_a_cache_shape_is_a_dataclass_or_a_payload_builder():
    with pytest.raises(TypeError):
        cache.shape_version(dict)
