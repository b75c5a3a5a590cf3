"""The machine lifecycle has one home, `app/services/lifecycle.py`, and task names one list,
`app/task_names.py`.

The Python source of `app/`, `tasks/`, `workers/` and `celery_app.py` is read (as syntax
trees, docstrings aside) for:
- a machine's status set anywhere but the lifecycle module: ``instance.status = …``, a
  status from `InstanceStatus` given to any ``.status``, ``Instance(status=…)`` or
  ``update(Instance).values(status=…)``;
- a task name written out anywhere but the list of names, and a task declared without one
  of its names.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from app import task_names
from app.models import Instance, InstanceStatus
from app.services import lifecycle
from app.services.lifecycle import KINDS, TRANSITIONS, IllegalTransition, JobKind

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("app", "tasks", "workers")
LIFECYCLE = ROOT / "app" / "services" / "lifecycle.py"
TASK_NAMES = ROOT / "app" / "task_names.py"
# Rows other than machines that have a status of their own, by the names code gives them.
OTHER_ROWS = {"subscription", "invoice", "ticket", "row", "self", "snapshot"}

S = InstanceStatus
AREAS = {value.split(".")[0] for name, value in vars(task_names).items() if name.isupper()}
# "email.py" names a file, not a task.
FILE_ENDINGS = {"py", "md", "json", "txt", "html", "js", "css", "sh"}


def checked_modules() -> Iterator[Path]:
    yield ROOT / "celery_app.py"
    for package in CHECKED:
        yield from sorted((ROOT / package).rglob("*.py"))


def _docstrings(tree: ast.Module) -> set[int]:
    owners = [tree] + [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    return {
        id(owner.body[0].value)
        for owner in owners
        if owner.body
        and isinstance(owner.body[0], ast.Expr)
        and isinstance(owner.body[0].value, ast.Constant)
    }


# -- statuses --------------------------------------------------------------------------------
def _status_names(tree: ast.Module) -> set[str]:
    """The names `InstanceStatus` goes by in a module (``S = InstanceStatus``, say)."""
    names = {"InstanceStatus"}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Name)
            and node.value.id in names
        ):
            names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
    return names


def _receiver(node: ast.expr) -> str:
    """``instance`` for ``instance.status``, ``instance`` for ``job.instance.status``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _mentions(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def _updates_instances(call: ast.Call) -> bool:
    """True for ``….values(…)`` on a statement built from ``update(Instance)``."""
    return any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Name)
        and n.func.id == "update"
        and any(isinstance(arg, ast.Name) and arg.id == "Instance" for arg in n.args)
        for n in ast.walk(call.func)
    )


def status_assignments(source: str) -> list[int]:
    """Lines of ``source`` that set a machine's status."""
    tree = ast.parse(source)
    statuses = _status_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if not (isinstance(target, ast.Attribute) and target.attr == "status"):
                    continue
                value = node.value if node.value is not None else target
                if _receiver(target.value) not in OTHER_ROWS or _mentions(value, statuses):
                    found.append(node.lineno)
        elif isinstance(node, ast.Call):
            named = node.func.id if isinstance(node.func, ast.Name) else ""
            method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            if (named == "Instance" or (method == "values" and _updates_instances(node))) and any(
                keyword.arg == "status" for keyword in node.keywords
            ):
                found.append(node.lineno)
    return sorted(found)


def test_a_machine_status_is_set_only_by_the_lifecycle() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in checked_modules()
        if path != LIFECYCLE
        for line in status_assignments(path.read_text())
    ]

    assert offenders == [], "move it with app.services.lifecycle:\n" + "\n".join(offenders)


def test_the_status_check_finds_each_way_of_setting_one() -> None:
    source = """
S = InstanceStatus
def f(instance, job, subscription, ticket, moving_to):
    instance.status = moving_to
    job.instance.status = "active"
    subscription.status = S.ACTIVE
    db.session.add(Instance(user_id=1, status="active"))
    db.session.execute(update(Instance).where(Instance.id == 1).values(status="failed"))
    subscription.status = "past_due"
    ticket.status = TicketStatus.OPEN
    db.session.execute(update(Subscription).values(status="canceled"))
"""

    assert status_assignments(source) == [4, 5, 6, 7, 8]


# -- task names ------------------------------------------------------------------------------
def loose_task_names(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string in ``source`` that is (or looks like) a task name."""
    tree = ast.parse(source)
    skipped = _docstrings(tree) | _foreign_keys(tree)
    return sorted(
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skipped
        and _looks_like_a_task_name(node.value)
    )


def _foreign_keys(tree: ast.Module) -> set[int]:
    """``ForeignKey("instances.id")`` names a column, not a task."""
    return {
        id(arg)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "ForeignKey"
        for arg in node.args
    }


def _looks_like_a_task_name(text: str) -> bool:
    area, _, action = text.partition(".")
    return area in AREAS and action.isidentifier() and action not in FILE_ENDINGS


def task_declarations(source: str) -> list[tuple[int, str | None]]:
    """(line, constant) of each ``@shared_task``: the `task_names` constant it is named by,
    or None when its name is anything else (or missing)."""
    found: list[tuple[int, str | None]] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            func = call.func if call else decorator
            if not (isinstance(func, ast.Name) and func.id == "shared_task"):
                continue
            name = next((k.value for k in call.keywords if k.arg == "name"), None) if call else None
            if (
                isinstance(name, ast.Attribute)
                and isinstance(name.value, ast.Name)
                and name.value.id == "task_names"
            ):
                found.append((node.lineno, name.attr))
            else:
                found.append((node.lineno, None))
    return found


def test_no_task_name_is_written_out_outside_the_list_of_names() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in checked_modules()
        if path != TASK_NAMES
        for line, text in loose_task_names(path.read_text())
    ]

    assert offenders == [], "use app.task_names:\n" + "\n".join(offenders)


def test_every_task_is_declared_by_its_name_from_the_list_and_every_name_has_a_task() -> None:
    declared = [
        (f"{path.relative_to(ROOT)}:{line}", constant)
        for path in checked_modules()
        for line, constant in task_declarations(path.read_text())
    ]
    unnamed = [where for where, constant in declared if constant is None]
    constants = sorted(constant for _, constant in declared if constant is not None)
    listed = sorted(name for name in vars(task_names) if name.isupper())

    assert unnamed == []
    assert constants == listed  # each name declared once, and no name without its task


def test_the_task_name_checks_find_what_they_look_for() -> None:
    source = '''
"""Sends "email.send_welcome"."""
@shared_task(name="email.send_welcome")
def a(): enqueue("billing.settle_undelivered", 1)
@shared_task(name=task_names.SEND_WELCOME)
def b(): enqueue(task_names.SEND_WELCOME, "email.py", "instance.paid", ForeignKey("instances.id"))
@shared_task
def c(): pass
'''

    assert loose_task_names(source) == [
        (3, "email.send_welcome"),
        (4, "billing.settle_undelivered"),
    ]
    assert task_declarations(source) == [(4, None), (6, "SEND_WELCOME"), (8, None)]


def test_the_checked_packages_are_where_they_were() -> None:
    modules = set(checked_modules())
    assert {LIFECYCLE, TASK_NAMES, ROOT / "tasks" / "instances.py"} <= modules
    assert ROOT / "workers" / "machines.py" in modules


# -- the lifecycle's table holds together ----------------------------------------------------
def test_every_job_can_make_the_moves_it_needs() -> None:
    assert set(TRANSITIONS) == set(S)
    for kind, rule in KINDS.items():
        if not rule.working:
            assert rule.target is None, kind
            continue
        for start in rule.starts_from:
            assert rule.working[0] in TRANSITIONS[start], (kind, start)
        for working in rule.working:
            assert rule.target in TRANSITIONS[working], (kind, working)
            # A failed job puts the machine back where it was; a failed order is failed.
            back = {S.FAILED} if kind == JobKind.PROVISION else rule.starts_from
            assert back <= TRANSITIONS[working], (kind, working)
    assert TRANSITIONS[S.TERMINATED] == frozenset()  # nothing comes back


def test_an_owner_asks_only_for_what_the_jobs_allow() -> None:
    for action, statuses in lifecycle.OWNER_ACTIONS.items():
        assert statuses <= KINDS[action].starts_from


def test_a_move_the_table_does_not_allow_is_refused() -> None:
    machine = Instance(id=1, status=S.TERMINATED, status_reason="gone")
    try:
        lifecycle.move(machine, S.ACTIVE)
    except IllegalTransition:
        pass
    else:
        raise AssertionError("a terminated machine came back")
    assert machine.status == S.TERMINATED and machine.status_reason == "gone"

    lifecycle.move(machine, S.TERMINATED, reason="still gone")
    assert machine.status_reason == "still gone"
