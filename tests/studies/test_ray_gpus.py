"""Ray's GPU scheduling, tested on a machine without a GPU: a local Ray that declares two GPUs it
does not have (``ray.init(num_gpus=2)``, as ``ray start --head --num-gpus 2`` would) schedules
cells that ask for one GPU one per declared GPU, gives each its own ``CUDA_VISIBLE_DEVICES``, and
each cell's recorded placement follows it. torch here has no CUDA, so the device the cells use is
the CPU, and the test checks that too (on a GPU, benchmarks/gpu_check.sh checks ``cuda``).

One Ray for the module (its start-up is the cost), kept on 127.0.0.1 as DESIGN §13 says, started
and stopped here; ``run_ray`` joins a Ray already running and leaves it running.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from biasinherit.errors import BiasInheritError
from biasinherit.studies.cell import cell_device
from biasinherit.studies.config import config_hash, study_config_from_mapping
from biasinherit.studies.executors import gpus_per_cell

DECLARED_GPUS = 2

# three cells (ratios 0, 0.5, 1), tiny models trained from scratch, two small tasks: each cell
# takes a second or two, so the fresh worker each GPU cell gets (its imports) is most of the time
STUDY: dict[str, Any] = {
    "name": "gpu-scheduling",
    "bias_types": ["gender.association"],
    "ratios": [0.0, 0.5, 1.0],
    "seeds": [0],
    "data": {"corpus_size": 120},
    "mix": {"size": 120},
    "pretrain": {"enabled": False},
    "model": {"model": "tiny", "epochs": 1, "batch_size": 8},
    "mitigation": {"names": []},
    "tasks": {"names": ["coref", "stereo_pairs"], "limit": 8},
    "audit": {"enabled": False},
    "executor": {"name": "ray", "threads": 1, "gpus_per_cell": 1},
}


@pytest.fixture(scope="module")
def fake_gpu_ray() -> Iterator[None]:
    """A local Ray on 127.0.0.1 with four CPUs and two declared GPUs: CPUs for three cells at
    once, so only the GPUs can hold the third back."""
    saved = {k: os.environ.get(k) for k in ("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "RAY_USAGE_STATS_ENABLED")}
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    import ray

    ray.init(address="local", _node_ip_address="127.0.0.1", include_dashboard=False, log_to_driver=False,
             logging_level=logging.WARNING, num_cpus=4, num_gpus=DECLARED_GPUS)
    try:
        yield
    finally:
        ray.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _data(**changes: Any) -> dict[str, Any]:
    """The study's config as the driver passes it to the executor, with sections changed."""
    mapping = {**STUDY, **{k: {**STUDY.get(k, {}), **v} for k, v in changes.items()}}
    return study_config_from_mapping(mapping).model_dump(mode="json")


def _most_at_once(spans: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = most = 0
    for _, step in events:  # an end sorts before a start at the same instant
        running += step
        most = max(most, running)
    return most


@pytest.mark.slow
def test_cells_asking_for_a_gpu_run_one_per_declared_gpu_each_on_its_own(fake_gpu_ray, tmp_path: Path):
    from biasinherit.studies.run import run_study

    outcome = run_study(study_config_from_mapping(STUDY), tmp_path / "run")
    assert outcome.cells_run == 3
    placements = [json.loads(p.read_text())["placement"] for p in sorted((tmp_path / "run").glob("cells/*/result.json"))]
    assert len(placements) == 3
    for p in placements:
        # one GPU each, among the declared ones, and the CUDA_VISIBLE_DEVICES Ray set names it
        assert len(p["gpus"]) == 1 and p["gpus"][0] in {str(i) for i in range(DECLARED_GPUS)}, p
        assert p["cuda_visible_devices"] == p["gpus"][0], p
        # torch here has no CUDA: the cell says so and ran on the CPU, in float32
        assert (p["cuda_available"], p["device"], p["dtype"]) == (False, "cpu", "float32"), p
    # each GPU cell in a fresh worker process (a reused one's CUDA would keep its first GPU)
    assert len({p["pid"] for p in placements}) == 3
    spans = [(p["started"], p["finished"]) for p in placements]
    # four CPUs would run all three at once: the two GPUs hold one back
    assert _most_at_once(spans) <= DECLARED_GPUS
    overlapping = [(a, b) for i, a in enumerate(placements) for b in placements[i + 1:]
                   if a["started"] < b["finished"] and b["started"] < a["finished"]]
    assert overlapping, spans  # two cells ran at once ...
    assert all(a["gpus"] != b["gpus"] for a, b in overlapping)  # ... each on its own GPU


def test_the_default_asks_a_gpu_for_hf_models_on_a_cluster_with_gpus_only(fake_gpu_ray):
    no_setting = {"executor": {"gpus_per_cell": None}}
    assert gpus_per_cell(_data(**no_setting)) == 0  # tiny models
    hf = {"model": {"model": "hf:some/model", "lora": True}}
    assert gpus_per_cell(_data(**no_setting, **hf)) == 1
    assert gpus_per_cell(_data(executor={"gpus_per_cell": 0}, **hf)) == 0
    assert gpus_per_cell(_data(executor={"gpus_per_cell": 0.5})) == 0.5
    assert gpus_per_cell(_data(**no_setting, model={"device": "cuda"})) == 1


@pytest.mark.parametrize(("changes", "message"), [
    ({"executor": {"gpus_per_cell": 3}}, "each cell asks for 3 GPU(s) but no node of the Ray cluster has more than 2"),
    ({"executor": {"gpus_per_cell": 0}, "model": {"device": "cuda"}},
     "model.device is 'cuda' but executor.gpus_per_cell is 0"),
    ({"executor": {"gpus_per_cell": 1}, "model": {"device": "cuda:1"}},
     "model.device is 'cuda:1' but a cell sees 1 GPU(s), numbered from cuda:0"),
])
def test_requests_a_cell_could_never_meet_are_refused_before_any_cell(fake_gpu_ray, changes, message):
    with pytest.raises(BiasInheritError, match=message.replace("(", r"\(").replace(")", r"\)")):
        gpus_per_cell(_data(**changes))


@pytest.mark.parametrize(("value", "message"), [
    (1.5, "above 1, give a whole number of GPUs"),
    (-1, "greater than or equal to 0"),
    (float("inf"), "finite number"),
])
def test_gpus_per_cell_is_checked_when_the_config_is_built(value, message):
    with pytest.raises(BiasInheritError, match=message) as info:
        study_config_from_mapping({"executor": {"gpus_per_cell": value}})
    assert info.value.field == "executor.gpus_per_cell"


def test_gpus_per_cell_places_cells_without_changing_what_they_compute():
    # a run folder resumes whatever GPUs its cells get, and one written before the setting
    # existed keeps its hash
    hashes = {config_hash(study_config_from_mapping({"executor": {"gpus_per_cell": g}})) for g in (None, 0, 2)}
    assert len(hashes) == 1


@pytest.mark.parametrize(("requested", "gpus", "cuda", "device"), [
    ("auto", None, False, "cpu"),  # no executor assigns GPUs: as pick_device says
    ("auto", ["1"], True, "cuda"),  # Ray's GPU 1 is this cell's cuda:0 (CUDA_VISIBLE_DEVICES=1)
    ("auto", [], True, "cpu"),  # given no GPU, a visible one may be another cell's
    ("auto", ["0"], False, "cpu"),  # given a GPU torch cannot use (a CPU build): CPU, with a warning
    ("cuda:1", ["2", "3"], True, "cuda:1"),  # the second of the cell's own GPUs
    ("cpu", ["0"], True, "cpu"),  # a device named in [model] is kept
])
def test_a_cells_device_follows_the_gpus_it_was_given(requested, gpus, cuda, device, caplog):
    with caplog.at_level(logging.WARNING, logger="biasinherit.studies.cell"):
        assert cell_device(requested, gpus, cuda_available=cuda) == device
    warned = any("torch sees no CUDA device" in r.getMessage() for r in caplog.records)
    assert warned == (requested == "auto" and bool(gpus) and not cuda)


def test_a_cell_given_no_gpu_refuses_a_cuda_device():
    with pytest.raises(BiasInheritError, match="gave this cell no GPU"):
        cell_device("cuda", [], cuda_available=True)
