"""Studies: a grid of (bias type, ratio, mitigation, seed) cells run resumably on one machine
or a Ray cluster, ending in a results table and an HTML report (DESIGN §10)."""

from biasinherit.studies.config import StudyConfig, config_hash, load_study_config
from biasinherit.studies.grid import Cell, build_grid
from biasinherit.studies.run import StudyOutcome, StudyProgress, describe_grid, run_study

__all__ = [
    "Cell", "StudyConfig", "StudyOutcome", "StudyProgress", "build_grid", "config_hash",
    "describe_grid", "load_study_config", "run_study",
]
