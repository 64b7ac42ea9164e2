"""Fine-tuning on a mix, with token-, mask- and loss-based mitigation (DESIGN §7)."""

from biasinherit.training.config import MITIGATIONS, TrainConfig, parse_mitigations
from biasinherit.training.trainer import TrainResult, records_hash, save_trained, train_model

__all__ = [
    "MITIGATIONS",
    "TrainConfig",
    "TrainResult",
    "parse_mitigations",
    "records_hash",
    "save_trained",
    "train_model",
]
