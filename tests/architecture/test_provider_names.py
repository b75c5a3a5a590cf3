"""Only `workers/providers` knows which providers exist: everything else asks the registry
for a provider's capabilities, title and settings, so a new provider touches its client, its
emulator and the catalogue, never the services, tasks or workflows.

Every string in the Python source of `app/`, `tasks/` and `workers/` (docstrings aside,
which may explain with an example) is searched for a registered provider's name, as a word
or as part of a setting name (``"contabo"``, ``"Vultr cannot ..."``, ``"VULTR_API_URL"``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from workers.providers.registry import PROVIDERS

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("app", "tasks", "workers")
EXEMPT = (ROOT / "workers" / "providers",)
# A name not inside a longer word: "Contabo's" and "VULTR_API_KEY" count, "vultrish" not.
NAMED = re.compile(
    r"(?<![a-z])(?:" + "|".join(map(re.escape, PROVIDERS)) + r")(?![a-z])", re.IGNORECASE
)


def _docstrings(tree: ast.Module) -> set[int]:
    """The ids of the nodes that are docstrings of the module, a class or a function."""
    owners = [tree] + [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    found = set()
    for owner in owners:
        body = owner.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            found.add(id(body[0].value))
    return found


def provider_names(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string in ``source`` that names a provider, in line order."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    return sorted(
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and NAMED.search(node.value)
    )


def checked_modules() -> Iterator[Path]:
    for package in CHECKED:
        for path in sorted((ROOT / package).rglob("*.py")):
            if not any(path.is_relative_to(exempt) for exempt in EXEMPT):
                yield path


def test_no_module_outside_the_providers_package_names_a_provider() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in checked_modules()
        for line, text in provider_names(path.read_text())
    ]

    assert offenders == [], "ask workers.providers.registry instead:\n" + "\n".join(offenders)


def test_the_check_finds_a_provider_in_a_comparison_a_message_and_a_setting_name() -> None:
    source = '''
"""Docstrings may name Vultr and Contabo."""
def resize(instance, config):
    """Vultr cannot shrink a disk."""
    if instance.provider == "contabo":
        raise Conflict(f"Vultr cannot shrink a disk: {instance.id}")
    return config["CONTABO_API_URL"], "vultrish"
'''

    assert [line for line, _ in provider_names(source)] == [5, 6, 7]


def test_the_checked_packages_are_where_they_were() -> None:
    assert {path.parts[len(ROOT.parts)] for path in checked_modules()} == set(CHECKED)
    assert (ROOT / "app" / "services" / "billing.py") in set(checked_modules())
