"""The --dry-run estimate: the reference machine's time for the work, scaled by this machine's
measured slowness, and calibrated against the presets' measured times (docs/validation.md)."""

from __future__ import annotations

import math

import pytest

from biasinherit.studies import build_grid, load_study_config
from biasinherit.studies.estimate import estimate_seconds, machine_slowness

# measured on the reference machine from empty caches, nothing else running (docs/benchmarks.md)
MEASURED_SECONDS = {"demo": 203.9, "quick": 106.5}


@pytest.mark.parametrize("preset", sorted(MEASURED_SECONDS))
def test_the_reference_estimate_is_within_30_percent_of_the_measured_time(preset):
    config = load_study_config(preset=preset)
    estimate = estimate_seconds(config, build_grid(config), slowness=1.0)
    assert estimate is not None
    assert abs(estimate["seconds"] - MEASURED_SECONDS[preset]) <= 0.3 * MEASURED_SECONDS[preset]


def test_a_slower_machine_gets_a_proportionally_longer_estimate():
    config = load_study_config(preset="quick")
    cells = build_grid(config)
    one = estimate_seconds(config, cells, slowness=1.0)
    two = estimate_seconds(config, cells, slowness=2.0)
    assert two["seconds"] == pytest.approx(2 * one["seconds"]) and two["reference_seconds"] == one["reference_seconds"]


def test_the_probe_measures_a_positive_slowness():
    slowness = machine_slowness()
    assert math.isfinite(slowness) and 0.05 < slowness < 100
