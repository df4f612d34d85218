"""Every Celery task name sent or scheduled is one the app registers.

A task is sent by name (``relcrm.queue.send``), so a decorator renamed without
its senders would leave the messages unanswered, silently: the write commits,
the recompute never runs. The names live in ``relcrm.task_names``; these tests
hold the decorators, the senders and the beat schedule to them.
"""

import ast
from pathlib import Path

import pytest
from django.conf import settings

from relcrm import task_names
from relcrm.celery import app

ROOT = Path(__file__).resolve().parent.parent
CONSTANTS = {
    name: value
    for name, value in vars(task_names).items()
    if name.isupper() and isinstance(value, str)
}


@pytest.fixture(scope="module")
def registered() -> set[str]:
    """The names the app registers once every app's ``tasks`` module is imported."""
    app.loader.import_default_modules()
    return {name for name in app.tasks if not name.startswith("celery.")}


def app_sources() -> list[Path]:
    skipped = {".venv", "tests", "migrations", "benchmarks", "node_modules"}
    return [
        path
        for path in ROOT.rglob("*.py")
        if not skipped & set(path.relative_to(ROOT).parts) and path.name != "queue.py"
    ]


def sent_names() -> dict[str, list[str]]:
    """Where each sender sends from, by the expression of the name it sends.

    A sender is ``queue.send(...)``, ``queue.send_on_commit(...)`` or any
    ``.send_task(...)``; its first argument is the name.
    """
    sent: dict[str, list[str]] = {}
    for path in app_sources():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            func = node.func
            via_queue = isinstance(func.value, ast.Name) and func.value.id == "queue"
            if (via_queue and func.attr in ("send", "send_on_commit")) or func.attr == "send_task":
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                sent.setdefault(ast.unparse(node.args[0]) if node.args else "", []).append(where)
    return sent


def test_every_task_name_constant_is_registered(registered):
    missing = {name: value for name, value in CONSTANTS.items() if value not in registered}
    assert not missing, f"no task registered under {missing}"


def test_every_registered_task_is_named_by_a_constant(registered):
    """A decorator whose name drifts from its constant registers a name no sender uses."""
    assert registered <= set(CONSTANTS.values()), registered - set(CONSTANTS.values())


def test_every_scheduled_task_is_registered(registered):
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled, "the beat schedule is empty"
    assert scheduled <= registered, scheduled - registered


def test_every_sender_sends_a_constant_that_is_registered(registered):
    sent = sent_names()
    # The senders this check must see: a write's recompute, and the sweep's.
    assert "task_names.COMPUTE_ACCOUNT_HEALTH" in sent
    assert "task_names.COMPUTE_TRUST_HEALTH" in sent
    for expression, places in sent.items():
        constant = expression.removeprefix("task_names.")
        assert constant in CONSTANTS, f"{places} send {expression!r}, not a task_names constant"
        assert CONSTANTS[constant] in registered, (places, CONSTANTS[constant])
