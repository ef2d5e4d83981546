"""Every environment variable the code reads is in README.md's configuration table, and vice versa."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "readerfund"
# settings.py's helpers: env("NAME", default), env_bool(…), env_list(…).
ENV_HELPERS = {"env", "env_bool", "env_list"}


def _name(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _is_os_environ(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ" and getattr(node.value, "id", None) == "os"


def _reads_environment(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in ENV_HELPERS
    if isinstance(func, ast.Attribute):
        return (func.attr == "get" and _is_os_environ(func.value)) or (
            func.attr == "getenv" and getattr(func.value, "id", None) == "os"
        )
    return False


def variables_read(source: str) -> set[str]:
    """Names read through env()/env_bool()/env_list(), os.environ.get/[]/os.getenv. Writes don't count."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        name = None
        if isinstance(node, ast.Call) and node.args and _reads_environment(node.func):
            name = _name(node.args[0])
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _is_os_environ(node.value):
            name = _name(node.slice)
        if name:
            found.add(name)
    return found


def code_variables() -> set[str]:
    return set().union(*(variables_read(path.read_text()) for path in PACKAGE.rglob("*.py")))


def documented_variables() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", section, flags=re.MULTILINE))


def test_the_scanner_finds_every_way_of_reading() -> None:
    source = (
        'A = env("ONE", "x")\nB = env_bool("TWO")\nC = env_list("THREE", "")\n'
        'D = os.environ.get("FOUR")\nE = os.environ["FIVE"]\nF = os.getenv("SIX")\n'
        'os.environ["NOT_A_READ"] = "x"\nos.environ.setdefault("NOR_THIS", "x")\n'
    )
    assert variables_read(source) == {"ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX"}


def test_settings_are_found() -> None:
    # Guards the scan itself: if it finds nothing, the real test below would pass vacuously.
    assert {"DATABASE_URL", "SECRET_KEY", "COUNTRY_HEADER"} <= code_variables()


def test_every_variable_read_is_documented() -> None:
    missing = code_variables() - documented_variables()
    assert not missing, f"add to README.md's configuration table: {', '.join(sorted(missing))}"


def test_every_documented_variable_is_read() -> None:
    stale = documented_variables() - code_variables()
    assert not stale, f"documented in README.md but read nowhere in readerfund/: {', '.join(sorted(stale))}"


DOCUMENTS = ("README.md", "CONTRIBUTING.md", "docs/ARCHITECTURE.md")


def test_the_documents_point_at_nothing_outside_the_repository() -> None:
    # A clone has only the repository: no "../shared/…", no link to a file it lacks.
    for name in DOCUMENTS:
        text = (ROOT / name).read_text(encoding="utf-8")
        assert "../" not in text, f"{name} points outside the repository"
        for target in re.findall(r"\]\(([^)#\s]+)", text):
            if not target.startswith(("http://", "https://", "mailto:")):
                assert (ROOT / name).parent.joinpath(target).exists(), f"{name} links to a missing {target}"


def test_the_documents_name_files_that_exist() -> None:
    # `readerfund/…` and `tests/…` paths in backticks are files a reader will open.
    for name in DOCUMENTS:
        text = (ROOT / name).read_text(encoding="utf-8")
        for path in re.findall(r"`((?:readerfund|tests|docs|bench)/[\w./-]+\.(?:py|md|js|toml))`", text):
            assert (ROOT / path).exists(), f"{name} names {path}, which is not in the repository"
