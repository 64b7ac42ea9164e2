"""The Python API: one function per command, with the command's options as keyword arguments
and the same defaults. Each accepts what users hold (paths, lists of records or dicts, pandas
DataFrames, ``datasets`` objects, model folders, hub ids, endpoints, models in memory) and
returns what their tools read (record lists with ``.to_pandas()``, DataFrames, a Study); files
are written only when ``out=`` names where."""

from biasinherit.api._audit import audit
from biasinherit.api._data import corpus, generate, mix
from biasinherit.api._models import evaluate, train
from biasinherit.api._study import report, study

__all__ = ["audit", "corpus", "evaluate", "generate", "mix", "report", "study", "train"]
