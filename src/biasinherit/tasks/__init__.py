"""The ten evaluation tasks, their registry and the real-benchmark loaders."""

from biasinherit.tasks.base import EvalSettings, Task, choose
from biasinherit.tasks.registry import TASK_NAMES, get_task, register_task, resolve_tasks

__all__ = ["TASK_NAMES", "EvalSettings", "Task", "choose", "get_task", "register_task", "resolve_tasks"]
