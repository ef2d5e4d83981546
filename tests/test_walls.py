"""The walls between the apps, checked on the code itself (docs/ARCHITECTURE.md, "Who may import whom").

- The core knows no domain: every module of readerfund/core/ is imported in a fresh interpreter whose
  Django knows only the core, and none may bring a domain app with it; the source is read as well, so
  an import inside a function (run only later) counts too.
- No two apps import each other, however indirectly: the standard library's `ast` reads every import
  in the package (inside functions and `if TYPE_CHECKING:` too) into a graph of apps, which must have
  no cycle.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "readerfund"
# The project's own wiring (settings, urls, the assembled OpenAPI document) and the command line sit
# above every app and may import any of them; no app may import them back.
DOMAIN_APPS = sorted(
    p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists() and p.name not in {"core", "config"}
)


def _modules(package: Path) -> list[Path]:
    return sorted(p for p in package.rglob("*.py") if "migrations" not in p.parts)


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every absolute module name the file imports, with its line, wherever in the file it stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
            # `from readerfund import payments` names the app in the alias, not the module.
            if node.module == "readerfund":
                found += [(f"readerfund.{alias.name}", node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}:{node.lineno}: use absolute imports (readerfund.…), as the rest does")
    return found


def _app_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "readerfund" and len(parts) > 1 else None


def _owner(path: Path) -> str:
    relative = path.relative_to(PACKAGE).parts
    return relative[0] if len(relative) > 1 else relative[0].removesuffix(".py")


def app_graph() -> dict[str, dict[str, list[str]]]:
    """app -> app it imports -> where ("readerfund/x/y.py:12")."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in _modules(PACKAGE):
        source = _owner(path)
        for module, line in _imports(path):
            target = _app_of(module)
            if target and target != source:
                graph[source][target].append(f"{path.relative_to(ROOT)}:{line}")
    return graph


def find_cycle(graph: dict[str, dict[str, list[str]]]) -> list[str]:
    """One cycle of the graph as [a, b, …, a], or [] when there is none."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, {})):
            if state.get(target) == "open":
                return [*stack[stack.index(target) :], target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return []

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return []


def test_no_import_cycle_between_apps() -> None:
    graph = app_graph()
    cycle = find_cycle(graph)
    where = [f"{a} -> {b}: {', '.join(graph[a][b][:3])}" for a, b in zip(cycle, cycle[1:], strict=False)]
    assert not cycle, "apps import each other:\n" + "\n".join(where)


def test_the_cycle_finder_finds_a_cycle() -> None:
    # The test above can fail: a graph with a cycle through three apps is caught, one without is not.
    assert find_cycle({"a": {"b": ["x"]}, "b": {"c": ["y"]}, "c": {"a": ["z"]}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": ["x"]}, "b": {"c": ["y"]}, "d": {"a": ["z"]}}) == []


def test_the_core_source_imports_no_domain_app() -> None:
    offending = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in _modules(PACKAGE / "core")
        for module, line in _imports(path)
        if _app_of(module) not in (None, "core")
    ]
    assert not offending, "\n".join(offending)


_IMPORT_EVERY_CORE_MODULE = """
import importlib, json, pathlib, sys
import django
from django.conf import settings

settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "readerfund.core"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    SECRET_KEY="walls-test",
    USE_TZ=True,
)
django.setup()
core = pathlib.Path(sys.argv[1])
names = []
for path in sorted(core.rglob("*.py")):
    if "migrations" in path.parts:
        continue
    name = ".".join(path.relative_to(core.parent.parent).with_suffix("").parts).removesuffix(".__init__")
    importlib.import_module(name)
    names.append(name)
loaded = sorted({m.split(".")[1] for m in sys.modules if m.startswith("readerfund.") and m.count(".") >= 1})
print(json.dumps({"imported": names, "apps": loaded}))
"""


def test_every_core_module_imports_without_any_domain_app() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_EVERY_CORE_MODULE, str(PACKAGE / "core")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert "readerfund.core.cors" in result["imported"] and "readerfund.core.money" in result["imported"]
    assert result["apps"] == ["core"], f"importing the core loaded {result['apps']}"


def _apps_imported_by(package: Path) -> set[str]:
    return {_app_of(module) or "" for path in _modules(package) for module, _ in _imports(path)} - {""}


def test_appeals_never_touch_money_and_delivery_knows_no_sender() -> None:
    assert not _apps_imported_by(PACKAGE / "appeals") & {"payments", "checkout", "supporters"}
    assert _apps_imported_by(PACKAGE / "notifications") <= {"notifications", "core", "newsrooms"}


def test_the_ledger_knows_no_page() -> None:
    pages = {"django.http", "django.shortcuts", "django.template", "django.views", "django.urls"}
    offending = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in _modules(PACKAGE / "payments" / "ledger")
        for module, line in _imports(path)
        if any(module == page or module.startswith(page + ".") for page in pages)
        or _app_of(module) in {"checkout", "supporters", "demo"}
    ]
    assert not offending, "\n".join(offending)


def test_only_the_gateway_imports_stripe() -> None:
    offending = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _modules(PACKAGE)
        for module, line in _imports(path)
        if module.split(".")[0] == "stripe" and "gateway" not in path.relative_to(PACKAGE).parts
    ]
    assert not offending, "\n".join(offending)


def test_domain_apps_are_found() -> None:
    # The walls above look at these; a rename that hid an app from them would fail here.
    assert {"appeals", "checkout", "newsrooms", "notifications", "payments", "reminders", "supporters"} <= set(
        DOMAIN_APPS
    )
