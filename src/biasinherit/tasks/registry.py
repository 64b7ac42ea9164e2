"""The task registry: one decorator, one lookup with "did you mean"."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from biasinherit.errors import BiasInheritError, unknown_name_error
from biasinherit.tasks.base import Task

__all__ = ["TASK_NAMES", "get_task", "register_task", "resolve_tasks"]

# the ten built-in tasks, in the order of DESIGN §8 (module of each = its name)
TASK_NAMES = (
    "stereo_pairs", "coref", "bias_qa", "toxicity_detection", "sentiment_cf",
    "general_knowledge", "story", "salary", "hiring", "values",
)

_REGISTRY: dict[str, type[Task]] = {}


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator: make a task available by its ``name``."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"task '{cls.name}' is registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def _load_builtin() -> None:
    for name in TASK_NAMES:
        if name not in _REGISTRY:
            importlib.import_module(f"biasinherit.tasks.{name}")


def get_task(name: str) -> Task:
    _load_builtin()
    if name not in _REGISTRY:
        raise unknown_name_error("task", name, _REGISTRY)
    return _REGISTRY[name]()


def resolve_tasks(spec: str) -> list[Task]:
    """``all`` or a comma-separated list of names -> task instances, in the given order."""
    _load_builtin()
    names = list(TASK_NAMES) if spec.strip() == "all" else [n.strip() for n in spec.split(",") if n.strip()]
    if not names:
        raise BiasInheritError("no task named (use 'all' or NAME,NAME)", field="--tasks")
    seen: dict[str, Task] = {}
    for n in names:
        if n not in seen:
            seen[n] = get_task(n)
    return list(seen.values())


TaskFactory = Callable[[], Task]
