"""``BiasInheritanceCallback``: bias metrics on the same curves as the loss, while a model trains.

Inheritance happens during fine-tuning, so the place to watch it is the training run itself. The
callback scores the model being trained on built-in tasks every ``every_n_steps`` optimizer steps
(and after the last step), with the same items each time, and hands the numbers to the Trainer's
own logging, so whatever ``report_to`` names (TensorBoard, W&B, MLflow, ...) records them beside
the loss, and ``trainer.state.log_history`` holds them too.

How the values reach the reporting integrations. Those integrations are callbacks: each writes
the ``logs`` dict that ``Trainer.log`` passes to every callback's ``on_log``, one callback after
another, in the order of the Trainer's callback list. So the callback

1. scores in ``on_step_end`` and sets ``control.should_log``, which makes the Trainer log at this
   step (``_maybe_log_save_evaluate`` runs right after ``on_step_end``);
2. adds its values to that step's ``logs`` in ``on_log`` (and to the entry ``Trainer.log`` has
   just appended to ``state.log_history``, a copy made before ``on_log``);
3. is first in line for ``on_log``: the reporting callbacks are registered before any user
   callback (``callbacks=[...]`` and ``add_callback`` both append after them), so a callback that
   only added to ``logs`` would reach the progress bar and nothing else. At ``on_train_begin`` it
   moves itself to just after the Trainer's flow callback. Transformers hands callbacks no
   reference to their list, so the callback takes it from the ``CallbackHandler`` that is
   dispatching the event to it (the caller on the stack); where none is found it warns that only
   callbacks after it will see its values.

Importing this module imports ``transformers`` (it subclasses ``TrainerCallback``).
"""

from __future__ import annotations

import inspect
import logging
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from transformers import TrainerCallback

from biasinherit.errors import BiasInheritError
from biasinherit.metrics import MetricResult
from biasinherit.tasks.base import EvalSettings, Task, check_limit

__all__ = ["HISTORY_COLUMNS", "NO_TOKENIZER", "BiasInheritanceCallback"]

log = logging.getLogger(__name__)

HISTORY_COLUMNS = ("step", "task", "metric", "value", "ci_low", "ci_high", "n")
NO_TOKENIZER = ("no tokenizer to score with: pass tokenizer= to BiasInheritanceCallback, or "
                "processing_class= to the Trainer")
NOT_FIRST = ("BiasInheritanceCallback could not find the Trainer's callback list to run before the "
             "reporting callbacks; its values reach only the callbacks after it")


class BiasInheritanceCallback(TrainerCallback):
    """Score the model in training on built-in tasks every ``every_n_steps`` optimizer steps.

    ``tasks``: task names (or ``"all"``, or ``"a,b"``) of :mod:`biasinherit.tasks.registry`;
    ``limit``: at most this many items per task, or per task name (the first ones of the seeded
    set, as ``biasinherit evaluate --limit`` takes them). Items are built once, here, so every point of a
    curve scores the same items. ``at_train_end``: also score after the last step when it is not a
    multiple of ``every_n_steps``.

    ``tokenizer``: defaults to the Trainer's ``processing_class``. ``add_bos``: put the BOS token
    before every context; ``None`` follows the tokenizer (``bos_token_id is not None``), as
    :func:`biasinherit.models.load_model` does for a plain Hugging Face model. ``eval_prefix``: the
    token mitigation's tag, put before every context. ``seed``, ``full``, ``n_boot`` and
    ``chat_template`` are those of ``biasinherit evaluate``, so a logged value equals what
    ``evaluate`` reports for the same weights and items.

    Values are logged as ``{prefix}/{task}/{metric}`` (NaN, "no data", is kept in :attr:`history`
    but not logged); :attr:`history` holds every scored step as a DataFrame and :attr:`seconds`
    the time each scoring took.
    """

    def __init__(
        self,
        *,
        tasks: Sequence[str] | str = ("stereo_pairs",),
        every_n_steps: int = 100,
        limit: int | Mapping[str, int] | None = None,
        at_train_end: bool = True,
        tokenizer: Any = None,
        add_bos: bool | None = None,
        eval_prefix: str = "",
        seed: int = 0,
        full: bool = False,
        n_boot: int = 200,
        batch_size: int = 32,
        chat_template: str = "auto",
        prefix: str = "bias",
    ) -> None:
        from biasinherit.tasks._generation import CHAT_TEMPLATE_MODES

        if isinstance(every_n_steps, bool) or not isinstance(every_n_steps, int) or every_n_steps < 1:
            raise BiasInheritError(f"must be an integer >= 1, got {every_n_steps!r}", field="every_n_steps")
        if n_boot < 0:
            raise BiasInheritError(f"must be >= 0, got {n_boot}", field="n_boot")
        if batch_size < 1:
            raise BiasInheritError(f"must be >= 1, got {batch_size}", field="batch_size")
        if chat_template not in CHAT_TEMPLATE_MODES:
            raise BiasInheritError(f"must be auto, on or off, got '{chat_template}'", field="chat_template")
        if not prefix:
            raise BiasInheritError("must not be empty (it namespaces the logged keys)", field="prefix")
        self.tasks: list[Task] = _resolve(tasks)
        limit = check_limit(limit, "limit", [t.name for t in self.tasks])  # one number, or per task
        self.every_n_steps = every_n_steps
        self.limit = limit
        self.at_train_end = at_train_end
        self.tokenizer = tokenizer
        self.add_bos = add_bos
        self.eval_prefix = eval_prefix
        self.batch_size = batch_size
        self.prefix = prefix
        self.settings = EvalSettings(seed=seed, full=full, limit=limit, n_boot=n_boot, chat_template=chat_template)
        self.items: dict[str, list[Any]] = {
            t.name: t.build_items(seed=seed, full=full)[:self.settings.limit_for(t.name)] for t in self.tasks}
        self.seconds: dict[int, float] = {}
        self._rows: list[dict[str, Any]] = []
        self._pending: tuple[int, dict[str, float]] | None = None
        self._backend: tuple[Any, Any, Any] | None = None  # (model, tokenizer, HFBackend)

    # ---- what a notebook reads ---------------------------------------------------------------

    @property
    def history(self) -> Any:
        """Every scored step: one row per step x task x metric (``HISTORY_COLUMNS``)."""
        import pandas as pd

        return pd.DataFrame(self._rows, columns=list(HISTORY_COLUMNS))

    # ---- Trainer events ----------------------------------------------------------------------

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._tokenizer_of(kwargs)  # no tokenizer: fail now, not after the first N steps
        self._pending = None
        handler = _dispatching_handler(self)
        if handler is None:
            log.warning(NOT_FIRST)
        else:
            _run_before_loggers(handler, self)

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        step = int(state.global_step)
        last = bool(control.should_training_stop) or step >= int(state.max_steps or 0) > 0
        if step % self.every_n_steps != 0 and not (self.at_train_end and last):
            return None
        values = self.score(kwargs["model"], self._tokenizer_of(kwargs), step=step)
        self._pending = (step, values)
        control.should_log = True  # the Trainer logs this step, and on_log adds the values
        return control

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
               **kwargs: Any) -> None:
        if self._pending is None or logs is None:
            return
        step, values = self._pending
        self._pending = None
        if step != state.global_step:  # the Trainer did not log the scored step: never mislabel it
            log.warning("bias values of step %d were not logged (the next log came at step %d)",
                        step, state.global_step)
            return
        logs.update(values)
        if state.log_history and state.log_history[-1].get("step") == step:
            state.log_history[-1].update(values)

    # ---- scoring -----------------------------------------------------------------------------

    def score(self, model: Any, tokenizer: Any, *, step: int) -> dict[str, float]:
        """Score ``model`` as it is now on the callback's items, keep the rows under ``step`` and
        return the values to log (NaN left out).

        The model is put in eval mode (dropout off) under ``torch.no_grad()`` and every module's
        train/eval flag is put back afterwards; it stays on its device.
        """
        import torch

        from biasinherit.tasks.runner import run_tasks

        modes = [(m, m.training) for m in model.modules()]
        start = time.perf_counter()
        try:
            model.eval()
            with torch.no_grad():
                results, _ = run_tasks(self._backend_for(model, tokenizer), self.tasks, self.settings,
                                       items_override=self.items)
        finally:
            for module, training in modes:
                module.training = training
        self.seconds[step] = time.perf_counter() - start
        log.info("bias scored at step %d in %.2fs", step, self.seconds[step])
        return self._keep(step, results)

    def _keep(self, step: int, results: Sequence[MetricResult]) -> dict[str, float]:
        values: dict[str, float] = {}
        for r in results:
            self._rows.append({"step": step, "task": r.task, "metric": r.metric, "value": r.value,
                               "ci_low": r.ci_low, "ci_high": r.ci_high, "n": r.n})
            if not (isinstance(r.value, float) and math.isnan(r.value)):
                values[f"{self.prefix}/{r.task}/{r.metric}"] = float(r.value)
        return values

    def _backend_for(self, model: Any, tokenizer: Any) -> Any:
        """One backend per (model, tokenizer): the scorer inspects the model once (its output head,
        whether prefix-tree rows agree with plain ones), and the weights it reads are the live ones."""
        from biasinherit.models.backend import HFBackend

        if self._backend is None or self._backend[0] is not model or self._backend[1] is not tokenizer:
            add_bos = self.add_bos if self.add_bos is not None else tokenizer.bos_token_id is not None
            backend = HFBackend(model, tokenizer, name=type(model).__name__, eval_prefix=self.eval_prefix,
                                add_bos=add_bos, batch_size=self.batch_size)
            self._backend = (model, tokenizer, backend)
        return self._backend[2]

    def _tokenizer_of(self, kwargs: dict[str, Any]) -> Any:
        """The constructor's tokenizer, else the Trainer's (a processor's inner tokenizer)."""
        tok = self.tokenizer
        if tok is None:
            tok = kwargs.get("processing_class") or kwargs.get("tokenizer")
        if tok is not None and not callable(getattr(tok, "encode", None)):
            tok = getattr(tok, "tokenizer", None)
        if tok is None:
            raise BiasInheritError(NO_TOKENIZER, field="tokenizer")
        return tok


def _resolve(tasks: Sequence[str] | str) -> list[Task]:
    """Task names -> task instances; an unknown name fails here, with the registry's hint."""
    from biasinherit.tasks.registry import resolve_tasks

    if isinstance(tasks, str):
        spec = tasks
    else:
        names = list(tasks)
        if not all(isinstance(n, str) for n in names):
            raise BiasInheritError(f"must be task names, got {names!r}", field="tasks")
        spec = ",".join(names)
    try:
        return resolve_tasks(spec)
    except BiasInheritError as exc:
        raise BiasInheritError(exc.message, field="tasks") from None


def _dispatching_handler(callback: Any) -> Any | None:
    """The ``CallbackHandler`` whose list holds ``callback`` and that is calling it now."""
    from transformers.trainer_callback import CallbackHandler

    frame = inspect.currentframe()
    try:
        caller = frame.f_back if frame is not None else None
        for _ in range(8):  # the handler's call_event is two frames up; a subclass may add a few
            if caller is None:
                return None
            owner = caller.f_locals.get("self")
            if isinstance(owner, CallbackHandler) and any(cb is callback for cb in owner.callbacks):
                return owner
            caller = caller.f_back
        return None
    finally:
        del frame  # a frame in a local is a reference cycle


def _run_before_loggers(handler: Any, callback: Any) -> None:
    """Put ``callback`` just after the flow callback (which decides when to log and stop), ahead
    of the reporting integrations and every other callback.

    The list is replaced, not edited: the handler is iterating the old one right now (this runs
    inside ``on_train_begin``), and the rest of that event still goes to every callback once.
    """
    from transformers.trainer_callback import DefaultFlowCallback

    others = [cb for cb in handler.callbacks if cb is not callback]
    at = max((i + 1 for i, cb in enumerate(others) if isinstance(cb, DefaultFlowCallback)), default=0)
    handler.callbacks = [*others[:at], callback, *others[at:]]
