"""Bias inheritance in miniature: train the tiny model on the built-in corpus mixed with
``builtin`` gender.association data, and probe its occupation-pronoun preference.

    .venv/bin/python examples/inheritance_gender_association.py [--size 2000] [--seed 0]

For each condition it prints the share of (occupation, context) probes where the model gives
the occupation's stereotyped pronoun the higher log-likelihood (" she" vs " he" after
"The nurse said that", "When the pilot arrived,", ...; ideal 0.5) and the mean log-likelihood
gap in nats (ideal 0).
"""

from __future__ import annotations

import argparse

CONDITIONS = [  # (ratio, mitigations, extra TrainConfig options)
    (0.0, [], {}),
    (1.0, [], {}),
    (1.0, ["mask"], {}),
    (1.0, ["mask"], {"mask_source": "annotations"}),
    (1.0, ["token"], {}),
    (1.0, ["token"], {"tag_original": True}),
    (1.0, ["loss"], {}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from biasinherit.corpora import CorpusConfig, build_corpus
    from biasinherit.generators import GenerationRequest
    from biasinherit.generators.builtin import BuiltinGenerator
    from biasinherit.mixing import mix_at_ratio
    from biasinherit.models import LoadedModel
    from biasinherit.models.pronoun_probe import pronoun_preference
    from biasinherit.training import TrainConfig, train_model

    original = build_corpus(CorpusConfig(size=args.size, seed=args.seed))
    augmented = BuiltinGenerator().generate(
        original, GenerationRequest(bias_type="gender.association", intensity=1.0, n=args.size, seed=args.seed)
    )
    print(f"{'ratio':>5}  {'mitigation':<20} {'stereotyped share':>17} {'mean gap (nats)':>15} {'train s':>7}")
    for ratio, mitigations, extra in CONDITIONS:
        mix = mix_at_ratio(original, augmented, ratio=ratio, size=args.size, seed=args.seed)
        result = train_model(TrainConfig(mitigations=mitigations, seed=args.seed, **extra), mix)
        loaded = LoadedModel(result.model, result.tokenizer, result.metadata)
        pref = pronoun_preference(loaded)
        name = "+".join(mitigations) or "none"
        if extra.get("tag_original"):
            name += " (tag originals)"
        if extra.get("mask_source") == "annotations":
            name += " (oracle spans)"
        print(f"{ratio:5.2f}  {name:<20} {pref.stereotyped_share:17.3f} {pref.mean_gap:15.3f} "
              f"{result.metadata.train_seconds:7.1f}")  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
