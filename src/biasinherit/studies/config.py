"""``StudyConfig``: one study, validated when loaded, with errors that name the key.

A study file is TOML or YAML with the sections below; every field has help text and a default,
so a file only says what differs from the ``quick`` preset it starts from.

    [data]        corpus_size / path / columns
    [generator]   name, options (model, base_url, api_key_env, ...)
    bias_types, intensity, polarity, ratios, seeds
    [mix]         mode, size
    [pretrain]    the tiny model's base: trained once on the original data, then fine-tuned per cell
    [model]       spec and training options (``TrainConfig`` fields but seed and mitigations);
                  options it does not name keep the preset's, unless it switches between a tiny
                  and an ``hf:`` model
    [mitigation]  names and the ratios they apply at
    [tasks]       names, limit
    [audit]       enabled, max_records, permutations
    [executor]    name (local | ray), address
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from biasinherit.errors import BiasInheritError, did_you_mean
from biasinherit.limits import MAX_CORPUS_SIZE, MAX_RECORDS, MAX_SEED

__all__ = ["StudyConfig", "load_study_config", "config_hash"]


def _is_hf(model_section: dict[str, Any]) -> bool:
    """Whether a ``[model]`` section names a pretrained ``hf:`` model (else a tiny one)."""
    return str(model_section.get("model", "tiny")).startswith("hf:")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSection(_Section):
    path: str | None = Field(default=None, description="original records file; omit for the built-in corpus")
    corpus_size: int = Field(default=2000, ge=1, le=MAX_CORPUS_SIZE, description="built-in corpus size (when no path)")
    columns: dict[str, str] = Field(default_factory=dict, description="column mapping ours=theirs for a foreign file")


class GeneratorSection(_Section):
    name: str = Field(default="builtin", description="builtin | openai | hf")
    options: dict[str, Any] = Field(default_factory=dict, description="generator options (model, base_url, api_key_env, ...)")


class MixSection(_Section):
    mode: Literal["replace", "add"] = Field(default="replace", description="replace keeps the size; add keeps all originals")
    size: int | None = Field(default=None, ge=1, le=MAX_RECORDS,
                             description="training-set size in replace mode (default: all originals)")
    draw_seed: int | None = Field(default=None, description=(
        "seed of the draw of original records: one draw for every training seed (a fixed dataset, as in the "
        "paper; the seeds then replicate training runs on it); unset: each training seed draws its own"))


class PretrainSection(_Section):
    enabled: bool = Field(default=True, description=(
        "tiny models: train one base model on the original data first and fine-tune it in every cell (as the "
        "paper fine-tunes a pretrained LLM); off: every cell trains from scratch. hf models are their own base"))
    epochs: int = Field(default=4, ge=1, description="passes of the base over the original data")
    seed: int = Field(default=0, description="the base's seed (one base for the whole study, like one pretrained LLM)")
    batch_size: int = Field(default=8, ge=1, description="records per batch while pretraining")


class MitigationSection(_Section):
    names: list[str] = Field(default_factory=lambda: ["token", "mask", "loss"], description="mitigations to compare (each alone)")
    ratios: list[float] = Field(default_factory=lambda: [1.0], description="ratios at which mitigations are trained")
    bias_types: list[str] | None = Field(default=None, description=(
        "bias types mitigated, among the study's (default: all of them; a type the study does not run is skipped)"))
    seeds: list[int] | None = Field(default=None, description=(
        "seeds at which the mitigations are trained, among the study's (default: all of them)"))


class TasksSection(_Section):
    names: list[str] = Field(default_factory=lambda: ["all"], description="task names, or all")
    limit: int | dict[str, int] | None = Field(default=None, description=(
        "items per task (default: each task's small size): one number, or a table of task names "
        "(limit = { story = 40 }; the tasks it does not name keep their size)"))
    full: bool = Field(default=False, description="use each task's full size")
    chat_template: Literal["auto", "on", "off"] = Field(default="auto", description=(
        "generation tasks: prompt through the model's chat template (auto: when it has one)"))
    benchmarks: dict[str, str] = Field(default_factory=dict, description=(
        "real benchmarks scored in every cell: NAME = PATH (crows_pairs, bbq, winobias, winogender; "
        "the path must be readable wherever cells run)"))
    benchmark_limit: int | None = Field(default=None, ge=1, description=(
        "items per benchmark, the file's first ones (default: all)"))
    protocol: Literal["original", "lm-eval"] = Field(default="original", description="benchmark scoring protocol")


class AuditSection(_Section):
    enabled: bool = Field(default=True, description="audit each bias type's augmented data (misalignment)")
    max_records: int = Field(default=600, ge=10, description="records of each set embedded and scored")
    permutations: int = Field(default=100, ge=10, description="permutations for the MMD and vocabulary tests")
    frechet_permutations: int = Field(default=10, ge=10, description="permutations for the Fréchet p-value")
    stance_scorer: bool = Field(default=True, description="read stances of free text with the embedding scorer")


class ExecutorSection(_Section):
    name: Literal["local", "ray"] = Field(default="local", description="local (in-process) or ray")
    address: str | None = Field(default=None, description="Ray cluster address (default: start a local Ray)")
    threads: int = Field(default=1, ge=1, description="torch threads per cell (fixed, so results do not depend on the executor)")
    workers: int | None = Field(default=None, ge=1, description=(
        "local: cells run at once in worker processes (default: CPU cores up to 4 for tiny models, 1 for hf)"))
    gpus_per_cell: float | None = Field(default=None, ge=0, allow_inf_nan=False, description=(
        "ray: GPUs each cell asks Ray for (0: none, the cell runs on CPU; 0.5: two cells share a GPU; 1, 2, ...: "
        "whole GPUs, each cell seeing its own as cuda:0, ...). Default: 1 for an hf: model on a cluster with GPUs "
        "or a [model] device of cuda, else 0. The local executor runs cells where it runs"))

    @field_validator("gpus_per_cell")
    @classmethod
    def _whole_gpus_above_one(cls, value: float | None) -> float | None:
        if value is not None and value > 1 and value != int(value):
            raise ValueError(f"{value:g} GPUs: above 1, give a whole number of GPUs (Ray shares only one GPU)")
        return value

    def resolved_workers(self, model: dict[str, Any]) -> int:
        if self.workers is not None:
            return self.workers
        import os

        if _is_hf(model):
            return 1
        return max(1, min(os.cpu_count() or 1, 4))


class StudyConfig(_Section):
    """A bias-inheritance study: every (bias type, ratio, mitigation, seed) cell of a grid."""

    name: str = Field(default="study", description="a label for the report")
    data: DataSection = Field(default_factory=DataSection)
    generator: GeneratorSection = Field(default_factory=GeneratorSection)
    bias_types: list[str] = Field(default_factory=lambda: [
        "gender.stereotype", "gender.association", "gender.representation",
        "culture.stereotype", "culture.association", "culture.representation",
    ], description="bias types to study (plain for plain augmentation)")
    intensity: float = Field(default=1.0, ge=0, le=1, description="share of generated records that carry the bias")
    polarity: Literal["negative", "positive"] | None = Field(default=None, description="stereotype polarity (default: both)")
    ratios: list[float] = Field(default_factory=lambda: [0.0, 0.5, 1.0], description="bias ratios (share of augmented data)")
    seeds: list[int] = Field(default_factory=lambda: [0], description="seeds; each seed repeats the whole grid")
    mix: MixSection = Field(default_factory=MixSection)
    pretrain: PretrainSection = Field(default_factory=PretrainSection)
    model: dict[str, Any] = Field(default_factory=lambda: {"model": "tiny"}, description="training options (TrainConfig fields)")
    mitigation: MitigationSection = Field(default_factory=MitigationSection)
    tasks: TasksSection = Field(default_factory=TasksSection)
    audit: AuditSection = Field(default_factory=AuditSection)
    executor: ExecutorSection = Field(default_factory=ExecutorSection)

    @field_validator("ratios")
    @classmethod
    def _ratios(cls, value: list[float]) -> list[float]:
        for r in value:
            if r != r:
                raise ValueError("ratio NaN is not a number; give ratios from 0 to 1")
            if not 0.0 <= r <= 1.0:
                raise ValueError(f"ratio {r} is outside [0, 1]")
        if len(set(value)) < len(value):  # each ratio's cells would run twice
            twice = sorted({r for r in value if value.count(r) > 1})
            raise ValueError(f"{', '.join(f'{r:g}' for r in twice)} given more than once: list each ratio once")
        return sorted(value)

    @model_validator(mode="after")
    def _check(self) -> StudyConfig:
        for r in self.mitigation.ratios:
            if r != r:
                raise ValueError("mitigation.ratios: NaN is not a number; give ratios in (0, 1]")
            if not 0.0 < r <= 1.0:
                raise ValueError(f"mitigation.ratios: {r} must be in (0, 1]")
        if not self.seeds:
            raise ValueError("seeds: give at least one seed")
        for seed in self.seeds:
            if not 0 <= seed <= MAX_SEED:
                raise ValueError(f"seeds: {seed} is outside [0, {MAX_SEED}]")
        for seed in self.mitigation.seeds or []:
            if seed not in self.seeds:
                raise ValueError(f"mitigation.seeds: {seed} is not one of the study's seeds {self.seeds}")
        return self

    def validate_names(self) -> None:
        """Check names against the registries (bias types, tasks, mitigations, model options)."""
        from biasinherit.taxonomy import load_taxonomy
        from biasinherit.training.config import TrainConfig, parse_mitigations

        tax = load_taxonomy()
        for key, types in (("bias_types", self.bias_types), ("mitigation.bias_types", self.mitigation.bias_types or [])):
            for bt in types:
                if bt != "plain":
                    try:
                        tax.bias_type(bt)
                    except BiasInheritError as exc:
                        raise BiasInheritError(exc.message, field=key) from None
        parse_mitigations(self.mitigation.names)
        from biasinherit.generators.base import check_generator_options

        try:
            check_generator_options(self.generator.name, self.generator.options)
        except BiasInheritError as exc:
            raise BiasInheritError(exc.message, field=f"generator.options.{exc.field}"
                                   if exc.field else "generator.name") from None
        for key in ("seed", "mitigations"):
            if key in self.model:
                raise BiasInheritError(f"'{key}' is set by the study grid, not in [model]", field=f"model.{key}")
        try:
            TrainConfig(**self.model)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"])
            hint = did_you_mean(key, TrainConfig.model_fields) if err["type"] == "extra_forbidden" else ""
            raise BiasInheritError(f"{err['msg']}.{hint}", field=f"model.{key}") from None
        from biasinherit.tasks.registry import resolve_tasks

        resolve_tasks(",".join(self.tasks.names))
        from biasinherit.tasks.benchmarks import get_benchmark

        for name in self.tasks.benchmarks:
            try:
                get_benchmark(name, self.tasks.protocol)
            except BiasInheritError as exc:
                raise BiasInheritError(exc.message, field=f"tasks.benchmarks.{name}") from None

    def train_config(self, *, seed: int, mitigation: str, bias_type: str | None = None) -> Any:
        """A cell's training options. The loss mitigation's counterfactual swaps the attribute of
        the cell's bias type (gender or culture) unless [model] names one."""
        from biasinherit.training.config import TrainConfig

        options = dict(self.model)
        if mitigation == "loss" and "cf_attribute" not in options and bias_type and "." in bias_type:
            options["cf_attribute"] = bias_type.split(".")[0]
        return TrainConfig(**options, seed=seed, mitigations=[] if mitigation == "none" else [mitigation])

    def mitigation_seeds(self) -> list[int]:
        """The seeds the mitigations are trained at."""
        wanted = self.mitigation.seeds
        return [s for s in self.seeds if wanted is None or s in wanted]

    def mitigated_types(self) -> list[str]:
        """The bias types the mitigations are trained on."""
        wanted = self.mitigation.bias_types
        return [bt for bt in self.bias_types if wanted is None or bt in wanted]

    @property
    def uses_base(self) -> bool:
        """Cells fine-tune one pretrained tiny base (hf models are pretrained already)."""
        return self.pretrain.enabled and not _is_hf(self.model)

    def pretrain_config(self) -> Any:
        """The base's training options: the [model] shape, the [pretrain] schedule."""
        from biasinherit.training.config import TrainConfig

        shape = {k: v for k, v in self.model.items() if k in ("model", "vocab_size", "max_length", "device")}
        return TrainConfig(**shape, seed=self.pretrain.seed, epochs=self.pretrain.epochs,
                           batch_size=self.pretrain.batch_size)


def config_hash(config: StudyConfig) -> str:
    """Hash of everything that changes results (the executor does not)."""
    placement = {"name", "address", "workers", "gpus_per_cell"}  # where cells run, not what they compute
    data = config.model_dump(mode="json", exclude={"executor": placement, "name": True})
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def _read_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise BiasInheritError("study config not found", path=path)
    if not path.is_file():
        raise BiasInheritError("is a folder; give a study config file (.toml, .yaml or .yml)", path=path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise BiasInheritError(f"not UTF-8 text (at byte {exc.start}); a study config is TOML or YAML",
                               path=path) from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            import tomllib

            return tomllib.loads(text)
        if suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
            if not isinstance(data, dict):
                raise BiasInheritError("expected a mapping at the top level", path=path)
            return data
    except BiasInheritError:
        raise
    except Exception as exc:  # tomllib.TOMLDecodeError, yaml.YAMLError
        raise BiasInheritError(f"cannot parse {suffix[1:].upper()} ({exc})".replace("\n", " "), path=path) from None
    raise BiasInheritError(f"unknown config type '{suffix}': use .toml, .yaml or .yml", path=path)


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``, section by section. A ``[model]`` section keeps the preset's
    training options it does not name (``epochs = 4`` over the quick preset keeps its batches of
    4), unless it moves to the other backend (tiny <-> ``hf:``), whose schedule the preset's would
    not suit: then it replaces them."""
    out = dict(base)
    for key, value in override.items():
        if not (isinstance(value, dict) and isinstance(out.get(key), dict)):
            out[key] = value
        elif key == "model" and _is_hf(value) != _is_hf(out[key]):
            out[key] = value
        else:
            out[key] = _deep_merge(out[key], value)
    return out


def validate_mapping(data: dict[str, Any], *, path: str | Path = "<config>",
                     override: dict[str, Any] | None = None, preset: str | None = None) -> StudyConfig:
    """Build a StudyConfig from a mapping; errors name the key (with a did-you-mean). The config is
    then checked as a whole (:mod:`biasinherit.studies.config_checks`); ``override`` is what the
    user's own file or mapping set over ``preset`` (None: every value is the user's)."""
    from biasinherit.validation_messages import error_message

    try:
        config = StudyConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"] if not isinstance(p, int)) or None
        msg = error_message(err, with_input=False)
        if err["type"] == "extra_forbidden" and key:
            parent_model: Any = StudyConfig
            for part in key.split(".")[:-1]:
                parent_model = parent_model.model_fields[part].annotation
            msg = f"unknown key.{did_you_mean(key.split('.')[-1], parent_model.model_fields)}"
        raise BiasInheritError(msg, path=path, field=key) from None
    from biasinherit.studies.config_checks import check_study_config

    try:
        check_study_config(config, override=override, preset=preset)  # validate_names included
    except BiasInheritError as exc:
        raise BiasInheritError(exc.message, path=path, field=exc.field) from None
    return config


def load_study_config(path: str | Path | None = None, *, preset: str | None = None) -> StudyConfig:
    """A preset, optionally overridden by a config file (which may name its own ``preset``)."""
    from biasinherit.studies.presets import preset_mapping

    data: dict[str, Any] = {}
    if path is not None:
        data = _read_file(Path(path))
        preset = data.pop("preset", preset)
    base = preset_mapping(preset or "quick")
    return validate_mapping(_deep_merge(base, data), path=path or f"<preset {preset or 'quick'}>",
                            override=data, preset=preset or "quick")


def study_config_from_mapping(data: dict[str, Any], *, preset: str | None = None) -> StudyConfig:
    """A config given as a mapping (the sections a file would hold) over its preset."""
    from biasinherit.studies.presets import preset_mapping

    data = dict(data)
    preset = data.pop("preset", preset)
    base = preset_mapping(preset or "quick")
    return validate_mapping(_deep_merge(base, data), path="<config mapping>", override=data,
                            preset=preset or "quick")
