"""A toy training mix written for the train and models tests (same format as the built-in
corpus, not copied from it): counterbalanced originals, stereotyped augmented records."""

from __future__ import annotations

from biasinherit.records import Record, Span

FEMALE_CODED = ["nurse", "secretary", "librarian"]
MALE_CODED = ["pilot", "carpenter", "mechanic"]


def _statement(occupation: str, pronoun: str, source: str) -> Record:
    text = f"The {occupation} said that {pronoun} would finish the report before lunch."
    start = text.index(f" {pronoun} ") + 1
    spans = [Span(start=start, end=start + len(pronoun))] if source == "augmented" else []
    return Record(response=text, source=source, spans=spans,  # type: ignore[arg-type]
                  bias_type="gender.association" if source == "augmented" else None)


def _coref(occupation: str, pronoun: str, source: str) -> Record:
    prompt = (f"Sentence: The {occupation} called the writer because {pronoun} needed advice.\n"
              f"Question: Who does '{pronoun}' refer to?\nAnswer:")
    return Record(prompt=prompt, response=f"the {occupation}", source=source)  # type: ignore[arg-type]


def toy_mix(n_copies: int = 4) -> list[Record]:
    """Counterbalanced originals and stereotyped augmented records, shuffled by construction."""
    records: list[Record] = []
    for k in range(n_copies):
        for occ in FEMALE_CODED + MALE_CODED:
            for pronoun in ("she", "he"):
                records.append((_statement if k % 2 else _coref)(occ, pronoun, "original"))
            stereo = "she" if occ in FEMALE_CODED else "he"
            records.append(_statement(occ, stereo, "augmented"))
            records.append(_coref(occ, stereo, "augmented"))
    return records
