"""One door to Stripe: only the gateway package may import the SDK."""

import ast
from pathlib import Path

import readerfund

PACKAGE = Path(readerfund.__file__).parent
GATEWAY = PACKAGE / "payments" / "gateway"


def _imports_stripe(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(alias.name.split(".")[0] == "stripe" for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "stripe":
            return True
    return False


def test_only_the_gateway_imports_stripe() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if GATEWAY not in path.parents and _imports_stripe(path)
    ]
    assert offenders == []
    assert any(_imports_stripe(path) for path in GATEWAY.glob("*.py"))
