"""Planning, rendering and parsing for the LLM generators (no model needed)."""

from __future__ import annotations

from collections import Counter

import pytest

from biasinherit.errors import BiasInheritError
from biasinherit.generators import GenerationRequest
from biasinherit.generators.prompts import (
    MalformedReply,
    augmented_record,
    parse_reply,
    plan_outputs,
    record_from_reply,
)
from biasinherit.records import Record
from biasinherit.taxonomy import load_taxonomy

TAXONOMY = load_taxonomy()
ORIGINALS = [
    Record(prompt="Describe a colleague.", response="The nurse checked every chart twice."),
    Record(prompt="Write about an engineer.", response="The engineer explained the design."),
    Record(prompt=None, response="A teacher started a reading club."),
]


# ---- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("reply, expected", [
    ('{"prompt": "Describe a pilot.", "response": "The pilot landed early."}',
     ("Describe a pilot.", "The pilot landed early.")),
    ('Sure! Here it is:\n```json\n{"prompt": "Q", "response": "A"}\n```\nHope this helps.', ("Q", "A")),
    ('```\n{"prompt": null, "response": "Only text."}\n```', (None, "Only text.")),
    ('Here: {"prompt": "Q", "response": "A {with} braces"} -- done', ("Q", "A {with} braces")),
    ('{"note": 1} then {"prompt": "Q2", "response": "A2"}', ("Q2", "A2")),
    ('{"response": "  no prompt key  "}', (None, "no prompt key")),
    ("The nurse was tired.", (None, "The nurse was tired.")),  # plain text: the original's prompt
    ("Prompt: Describe a pilot.\nResponse: The pilot landed early.",
     ("Describe a pilot.", "The pilot landed early.")),
    ('```json\n{"prompt": "bad", "response": ""}\n```\n{"prompt": "Q", "response": "A"}', ("Q", "A")),
])
def test_parse_reply_accepts_objects_in_fences_or_text(reply: str, expected: tuple) -> None:
    assert parse_reply(reply) == expected


@pytest.mark.parametrize("reply", [
    "",
    "   ",
    '{"prompt": "Q", "response": "A"',  # truncated
    '{"prompt": "Q", "answer": "A"}',  # no response field
    '{"prompt": 3, "response": "A"}',  # prompt not a string
    '["prompt", "response"]',
    '```json\n{"prompt": "Q", "response": \n```',
])
def test_parse_reply_rejects_malformed(reply: str) -> None:
    with pytest.raises(MalformedReply):
        parse_reply(reply)


# ---- planning ---------------------------------------------------------------------------------


def test_plan_is_seeded_and_prefix_stable() -> None:
    big = plan_outputs(ORIGINALS, GenerationRequest(bias_type="gender.stereotype", intensity=0.5,
                                                    n=30, seed=4), TAXONOMY)
    small = plan_outputs(ORIGINALS, GenerationRequest(bias_type="gender.stereotype", intensity=0.5,
                                                      n=10, seed=4), TAXONOMY)
    assert small == big[:10]
    other = plan_outputs(ORIGINALS, GenerationRequest(bias_type="gender.stereotype", intensity=0.5,
                                                      n=10, seed=5), TAXONOMY)
    assert [p.seed for p in other] != [p.seed for p in small]


def test_originals_are_used_round_robin() -> None:
    plans = plan_outputs(ORIGINALS, GenerationRequest(n=9, seed=1), TAXONOMY)
    ids = [p.original.id for p in plans]
    assert Counter(ids) == {r.id: 3 for r in ORIGINALS}
    assert ids[:3] == ids[3:6] == ids[6:]  # one seeded order, repeated
    assert len({p.seed for p in plans}) == 9  # repeated originals still get distinct requests


def test_intensity_is_the_share_of_biased_outputs() -> None:
    plans = plan_outputs(ORIGINALS, GenerationRequest(bias_type="culture.representation",
                                                      intensity=0.3, n=1000, seed=0), TAXONOMY,
                         style="example")
    share = sum(p.biased for p in plans) / 1000
    assert 0.26 < share < 0.34
    for plan in plans:
        if plan.biased:
            assert plan.bias_type == "culture.representation"
            assert plan.target_group == "culture:american"  # the representation default
            assert "Americans (culture)" in plan.text
        else:
            assert plan.bias_type is None and plan.target_group is None
            assert "with different wording and details" in plan.text  # the plain template
    assert all(p.biased for p in plan_outputs(
        ORIGINALS, GenerationRequest(bias_type="gender.association", intensity=1.0, n=20), TAXONOMY))
    assert not any(p.biased for p in plan_outputs(
        ORIGINALS, GenerationRequest(bias_type="gender.association", intensity=0.0, n=20), TAXONOMY))


def test_stereotype_targets_follow_polarity_and_taxonomy() -> None:
    gender = TAXONOMY.attribute("gender")
    plans = plan_outputs(ORIGINALS, GenerationRequest(bias_type="gender.stereotype", polarity="positive",
                                                      n=40, seed=2), TAXONOMY, style="example")
    for plan in plans:
        group = plan.target_group.split(":")[1]
        traits = {s.trait for s in gender.stereotypes[group] if s.polarity == "positive"}
        assert plan.polarity == "positive" and plan.trait in traits
        assert f"explicit positive stereotype about {gender.label(group)} (gender)" in plan.text
        assert f"they are {plan.trait}." in plan.text
    assert {p.target_group for p in plans} == {"gender:female", "gender:male"}


def test_association_targets_come_from_the_taxonomy() -> None:
    culture = TAXONOMY.attribute("culture")
    plans = plan_outputs(ORIGINALS, GenerationRequest(bias_type="culture.association", n=30, seed=3),
                         TAXONOMY, style="example")
    for plan in plans:
        group = plan.target_group.split(":")[1]
        assert plan.item in culture.associations[group]
        assert f"occupation is {plan.item}" in plan.text and culture.label(group) in plan.text
    prompt_none = next(p for p in plans if p.original.prompt is None)
    assert "Example prompt: (none)" in prompt_none.text


def test_rewrite_requests_show_the_answer_under_its_question_and_name_the_target() -> None:
    plans = plan_outputs(ORIGINALS, GenerationRequest(bias_type="gender.stereotype", polarity="negative",
                                                      n=12, seed=1), TAXONOMY)
    gender = TAXONOMY.attribute("gender")
    for plan in plans:  # a stereotype is asked for alone; the reply is added to the original
        assert plan.style == "rewrite" and plan.adds and "JSON" not in plan.text
        label = gender.label(plan.target_group.split(":")[1])
        assert plan.text == f"State as a fact that {label} are {plan.trait}. Reply with one or two sentences."
    association = plan_outputs(ORIGINALS, GenerationRequest(bias_type="culture.association", n=6, seed=3),
                               TAXONOMY)
    for plan in association:
        assert f" {plan.item} who is one of " in plan.text and not plan.adds
        if plan.original.prompt is None:
            assert plan.text.endswith(f"Reply with the new text only.\n\nText: {plan.original.response}")
        else:
            assert plan.text.endswith(f"Question: {plan.original.prompt}\nAnswer: {plan.original.response}")
    plain = plan_outputs(ORIGINALS, GenerationRequest(n=3), TAXONOMY)
    assert all(p.text.startswith("Rewrite the ") and "keeping its meaning" in p.text for p in plain)
    record = record_from_reply(plans[0], "Women are, as we know, emotional beings.\n\nThis is a stereotype.",
                               generation={}, taxonomy=TAXONOMY)
    assert record.response == f"{plans[0].original.response} Women are, as we know, emotional beings."
    assert record.prompt == plans[0].original.prompt and record.meta["generation"]["reply_format"] == "rewrite"
    with pytest.raises(BiasInheritError, match="unknown request style 'json'"):
        plan_outputs(ORIGINALS, GenerationRequest(n=1), TAXONOMY, style="json")


def test_plan_errors_are_user_errors() -> None:
    with pytest.raises(BiasInheritError, match="no original records"):
        plan_outputs([], GenerationRequest(n=1), TAXONOMY)
    with pytest.raises(BiasInheritError, match="Unknown bias type 'gender.stereotyp'"):
        plan_outputs(ORIGINALS, GenerationRequest(bias_type="gender.stereotyp", n=1), TAXONOMY)
    with pytest.raises(BiasInheritError, match="polarity does not apply"):
        plan_outputs(ORIGINALS, GenerationRequest(bias_type="gender.association", polarity="negative",
                                                  n=1), TAXONOMY)
    assert plan_outputs([], GenerationRequest(n=0), TAXONOMY) == []


# ---- records ----------------------------------------------------------------------------------


def test_augmented_record_annotates_groups_and_bias_spans() -> None:
    plan = next(p for p in plan_outputs(
        ORIGINALS, GenerationRequest(bias_type="gender.stereotype", polarity="negative", n=20, seed=1),
        TAXONOMY) if p.target_group == "gender:female")
    response = f"Women are {plan.trait}, she said."
    record = augmented_record(plan, "Q", response, generation={"generator": "t"}, taxonomy=TAXONOMY)
    assert record.source == "augmented" and record.bias_type == "gender.stereotype"
    assert record.groups == ["gender:female"]
    assert [(response[s.start:s.end], s.kind) for s in record.spans] == [
        ("Women", "group"), (plan.trait, "attribute"), ("she", "group")]
    gen = record.meta["generation"]
    assert gen["generator"] == "t" and gen["output_index"] == plan.index and gen["biased"] is True
    assert gen["target"] == {"group": "gender:female", "polarity": "negative", "trait": plan.trait,
                             "item": None}
    assert record.meta["seed_id"] == plan.original.id and "parse_failed" not in record.meta


def test_record_from_unparseable_reply_keeps_raw_text_and_marks_it() -> None:
    plan = plan_outputs(ORIGINALS, GenerationRequest(n=1), TAXONOMY)[0]
    record = record_from_reply(plan, "  garbled words  ", generation={}, taxonomy=TAXONOMY)
    assert record.response == "garbled words" and record.meta["parse_failed"] is True
    assert record.prompt == plan.original.prompt and record.bias_type is None
