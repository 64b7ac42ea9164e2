"""A third attribute written as one data file, shared by the tests that prove extensibility."""

import json
from pathlib import Path

RELIGION = {
    "attribute": "religion",
    "description": "Religion of the people a text mentions.",
    "groups": ["christian", "muslim", "jewish", "hindu", "buddhist"],
    "group_labels": {"christian": "Christians", "muslim": "Muslims", "jewish": "Jewish people",
                     "hindu": "Hindus", "buddhist": "Buddhists"},
    "lexicon": {
        "adherent": {"christian": ["Christian", "Christians"], "muslim": ["Muslim", "Muslims"],
                     "jewish": ["Jew", "Jews"], "hindu": ["Hindu", "Hindus"],
                     "buddhist": ["Buddhist", "Buddhists"]},
        "worship": {"christian": ["church"], "muslim": ["mosque"], "jewish": ["synagogue"],
                    "hindu": ["mandir"], "buddhist": ["vihara"]},
    },
    "names": {},
    "stereotypes": {
        "christian": [{"trait": "preachy", "polarity": "negative", "claim": "{Group} always lecture others."}],
        "muslim": [{"trait": "devout", "polarity": "positive", "claim": "{Group} are deeply devout."}],
        "jewish": [{"trait": "studious", "polarity": "positive", "claim": "{Group} love to study."}],
        "hindu": [{"trait": "spiritual", "polarity": "positive", "claim": "{Group} are very spiritual."}],
        "buddhist": [{"trait": "calm", "polarity": "positive", "claim": "{Group} are always calm."}],
    },
    "associations": {"christian": ["pilot"], "muslim": ["pharmacist"], "jewish": ["lawyer"],
                     "hindu": ["physician"], "buddhist": ["librarian"]},
    "representation_default": "christian",
}


def write_religion(folder: Path) -> Path:
    path = folder / "religion.json"
    path.write_text(json.dumps(RELIGION))
    return path
