"""Shared test helpers live in tests/ (helpers, fixtures registered in the root conftest.py):
no test imports a test module or a conftest, which pytest may load twice under two names."""

import ast
from pathlib import Path

from tests.helpers import PROJECT

SKIPPED = {".venv", "node_modules", ".git", "media", "staticfiles"}


def files_of_the_tests() -> list[Path]:
    return sorted(
        path
        for path in PROJECT.rglob("*.py")
        if not SKIPPED & set(path.relative_to(PROJECT).parts)
        and ("tests" in path.relative_to(PROJECT).parts or path.name == "conftest.py")
    )


def imported_modules(tree: ast.AST) -> list[str]:
    """Every module an import statement names, `from a.b import c` giving a.b and a.b.c."""
    modules = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            prefix = "." * node.level + node.module
            modules += [prefix] + [f"{prefix}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules += ["." * node.level + alias.name for alias in node.names]
    return modules


def is_test_module(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last == "conftest" or last.startswith("test_")


def test_no_test_imports_a_test_module_or_a_conftest():
    found = files_of_the_tests()
    assert PROJECT / "catalog" / "tests" / "test_songs_api.py" in found  # the scan sees tests
    offending = [
        f"{path.relative_to(PROJECT)} imports {module}"
        for path in found
        for module in imported_modules(ast.parse(path.read_text(), str(path)))
        if is_test_module(module)
    ]
    assert offending == [], "move what is shared into tests/ (helpers.py or a plugin module)"


def test_the_scan_catches_each_way_of_importing_one():
    for source in (
        "from catalog.tests.conftest import wav_bytes",
        "from messaging.tests import conftest as live",
        "import core.tests.test_health_and_docs",
        "from .test_openapi import operations",
        "from . import conftest",
    ):
        assert any(is_test_module(module) for module in imported_modules(ast.parse(source)))
    assert not any(
        is_test_module(module)
        for module in imported_modules(ast.parse("from tests import helpers"))
    )
