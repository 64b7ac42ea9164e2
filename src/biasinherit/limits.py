"""Bounds on sizes and seeds, checked before any work.

A typo such as an extra zero (or ``99999999999999999999``) is refused at once instead of hanging,
filling the memory or overflowing inside a library later.
"""

from __future__ import annotations

# The built-in corpus is built in memory: 100,000 records took 36 s and 446 MB (2 cores, load 5),
# so the largest allowed is minutes and a few GB.
MAX_CORPUS_SIZE = 1_000_000
# generate --n, mix --size
MAX_RECORDS = 1_000_000
# numpy, torch and Python's random all accept seeds up to 2**32 - 1
MAX_SEED = 2**32 - 1
MAX_THREADS = 1024
MAX_BATCH = 65536
# evaluate --limit, [tasks] limit: items per task (the largest full task has thousands)
MAX_TASK_LIMIT = 10_000_000
