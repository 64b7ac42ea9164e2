"""The study grid: which cells to train and evaluate.

A cell is (bias type, ratio, mitigation, seed). The ratio-0 mix holds no augmented data, so it is
the same for every bias type: it is trained once per seed as the shared ``baseline`` cell and its
results stand for every bias type at ratio 0. Mitigations are trained only at their own ratios
(and seeds).
"""

from __future__ import annotations

from dataclasses import dataclass

from biasinherit.studies.config import StudyConfig

BASELINE = "baseline"


@dataclass(frozen=True, order=True)
class Cell:
    seed: int
    bias_type: str  # BASELINE for the shared ratio-0 cell
    ratio: float
    mitigation: str = "none"

    @property
    def key(self) -> str:
        if self.bias_type == BASELINE:
            return f"s{self.seed}__baseline"
        return f"s{self.seed}__{self.bias_type}__r{self.ratio:.3f}__{self.mitigation}"

    @property
    def label(self) -> str:
        """Short and readable: ``s0 gender.stereotype r0.5 none``."""
        if self.bias_type == BASELINE:
            return f"s{self.seed} baseline"
        return f"s{self.seed} {self.bias_type} r{self.ratio:g} {self.mitigation}"

    @property
    def is_baseline(self) -> bool:
        return self.bias_type == BASELINE

    def to_dict(self) -> dict[str, object]:
        return {"seed": self.seed, "bias_type": self.bias_type, "ratio": self.ratio,
                "mitigation": self.mitigation, "key": self.key}


def build_grid(config: StudyConfig) -> list[Cell]:
    cells: list[Cell] = []
    mitigated_types, mitigation_seeds = set(config.mitigated_types()), set(config.mitigation_seeds())
    for seed in config.seeds:
        if 0.0 in config.ratios:
            cells.append(Cell(seed, BASELINE, 0.0))
        mitigated = mitigated_types if seed in mitigation_seeds else set()
        for bias_type in config.bias_types:
            for ratio in config.ratios:
                if ratio > 0:
                    cells.append(Cell(seed, bias_type, ratio))
            if bias_type not in mitigated:
                continue
            for ratio in config.mitigation.ratios:
                for mitigation in config.mitigation.names:
                    cells.append(Cell(seed, bias_type, ratio, mitigation))
    return cells


def augmented_needed(config: StudyConfig, n_original: int) -> int:
    """How many augmented records one bias type needs for the largest ratio of the grid.

    The ``builtin`` generator (cheap) augments every original record at least once, so its set
    keeps the original's balance (every gender with every occupation, stance and label) and each
    cell's mix draws its own subset by seed: the sampling noise of the augmented part then varies
    with the seed, as any other training noise, instead of being one fixed draw shared by every
    cell (which a test over seeds would mistake for an effect of the data)."""
    from biasinherit.mixing import mix_counts

    ratios = [r for r in [*config.ratios, *config.mitigation.ratios] if r > 0]
    if not ratios:
        return 0
    needed = max(
        mix_counts(r, size=config.mix.size, n_original=n_original, mode=config.mix.mode).augmented
        for r in ratios
    )
    return max(needed, n_original) if config.generator.name == "builtin" else needed
