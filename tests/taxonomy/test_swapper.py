"""Counterfactual swapper: hand-written sentences with the outputs a careful reader expects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from biasinherit.errors import BiasInheritError
from biasinherit.taxonomy import (
    CounterfactualSwapper,
    SwapChange,
    SwapResult,
    load_taxonomy,
)
from biasinherit.taxonomy.swapper import BOTH_TARGET_AND_MAPPING


@pytest.fixture(scope="module")
def swapper() -> CounterfactualSwapper:
    return CounterfactualSwapper()


# gender, default partners (female <-> male)
GENDER_CASES = [
    # pronouns and the her/his/hers ambiguity
    ("She is a doctor.", "He is a doctor."),
    ("He is a nurse.", "She is a nurse."),
    ("I saw her.", "I saw him."),
    ("I saw him.", "I saw her."),
    ("She lost her book.", "He lost his book."),
    ("He lost his car.", "She lost her car."),
    ("The car is his.", "The car is hers."),
    ("The book is hers.", "The book is his."),
    ("That desk is hers, not his.", "That desk is his, not hers."),
    ("His is the red one.", "Hers is the red one."),
    ("I gave her the keys.", "I gave him the keys."),
    ("We talked to her about it.", "We talked to him about it."),
    ("They met her yesterday.", "They met him yesterday."),
    ("Call her and ask.", "Call him and ask."),
    ("Let her go home.", "Let him go home."),
    ("I told her she was right.", "I told him he was right."),
    ("Her own company grew.", "His own company grew."),
    ("It was her very first job.", "It was his very first job."),
    ("She thanked her family.", "He thanked his family."),
    ("We thanked her warmly.", "We thanked him warmly."),
    ("She loves her 3 children.", "He loves his 3 children."),
    ("She did it herself.", "He did it himself."),
    ("He hurt himself.", "She hurt herself."),
    ("Ask her, then ask him.", "Ask him, then ask her."),
    # capitals
    ("He said she would call.", "She said he would call."),
    ("HER BOOK IS ON HIS DESK.", "HIS BOOK IS ON HER DESK."),
    ("SHE IS A WOMAN.", "HE IS A MAN."),
    ("Her sister is his wife.", "His brother is her husband."),
    # lexicon by concept and position, plurals
    ("My mother and my father are here.", "My father and my mother are here."),
    ("The women asked the men.", "The men asked the women."),
    ("Two girls and a boy played.", "Two boys and a girl played."),
    ("Her daughters visited their grandmother.", "His sons visited their grandfather."),
    ("The queen met the kings.", "The king met the queens."),
    ("The chairwoman and the salesmen agreed.", "The chairman and the saleswomen agreed."),
    ("An actress thanked the waitress.", "An actor thanked the waiter."),
    ("Ladies and gentlemen, welcome.", "Gentlemen and ladies, welcome."),
    ("The female engineer spoke.", "The male engineer spoke."),
    # titles and address
    ("Ms. Smith called Mr. Jones.", "Mr. Smith called Ms. Jones."),
    ("Mrs. Brown is here.", "Mr. Brown is here."),
    ("Yes, ma'am.", "Yes, sir."),
    # names: aligned, consistent, possessive
    ("Mary met John.", "John met Mary."),
    ("Emma's brother called.", "James's sister called."),
    ("Mary called. Later Mary left.", "John called. Later John left."),
    ("MARY AND JOHN", "JOHN AND MARY"),
    ("Yuki told her boss.", "Hiroshi told his boss."),
    # words that merely contain a term stay
    ("The manager is human.", "The manager is human."),
    ("The Herald printed a shell story.", "The Herald printed a shell story."),
    ("Please mark the box and grace the hall.", "Please mark the box and grace the hall."),
    # hyphenated compounds swap their part
    ("A woman-owned bakery opened.", "A man-owned bakery opened."),
    ("Her ex-husband moved.", "His ex-wife moved."),
    # no gendered word at all
    ("The people waited for the bus.", "The people waited for the bus."),
    ("The actor waited.", "The actor waited."),
    ("They met a person and their parents.", "They met a person and their parents."),
]


@pytest.mark.parametrize(("text", "expected"), GENDER_CASES)
def test_gender_swap(swapper: CounterfactualSwapper, text: str, expected: str) -> None:
    assert swapper.swap(text, "gender").text == expected


# culture, default partners: the next default group (american -> british -> german ->
# japanese -> chinese -> indian -> ... -> egyptian -> american)
CULTURE_CASES = [
    ("The Germans won.", "The Japanese people won."),
    ("Japanese people are kind.", "Chinese people are kind."),
    ("I drive a German car.", "I drive a Japanese car."),
    ("She is German.", "She is Japanese."),
    ("A German won the race.", "A Japanese person won the race."),
    ("We met a German who cooks.", "We met a Japanese person who cooks."),
    ("He moved to Germany.", "He moved to Japan."),
    ("Japan is an island nation.", "China is an island nation."),
    ("She lives in the United States.", "She lives in Britain."),
    ("The United States is large.", "Britain is large."),
    ("An American met a German in Germany.", "A British person met a Japanese person in Japan."),
    ("An American car is big.", "A British car is big."),
    ("German-made tools", "Japanese-made tools"),
    ("Klaus bought German beer in Germany.", "Hiroshi bought Japanese beer in Japan."),
    ("Yuki from Japan met Wei.", "Mei from China met Arjun."),
    ("Katharina's brother lives in Germany.", "Yuki's brother lives in Japan."),
    ("GERMANY AND JAPAN", "JAPAN AND CHINA"),
    ("They came from Egypt.", "They came from the United States."),
    ("Egypt is warm.", "The United States is warm."),
    ("Fine china is fragile.", "Fine china is fragile."),
]


@pytest.mark.parametrize(("text", "expected"), CULTURE_CASES)
def test_culture_swap(swapper: CounterfactualSwapper, text: str, expected: str) -> None:
    assert swapper.swap(text, "culture").text == expected


# explicit target or mapping
TARGETED_CASES = [
    ("Mary met John.", "gender", "male", None, "James met John."),
    ("Mary met John.", "gender", "female", None, "Mary met Emma."),
    ("He and she left.", "gender", "female", None, "She and she left."),
    ("She took her coat.", "gender", "nonbinary", None, "They took their coat."),
    ("I saw her with Mary.", "gender", "nonbinary", None, "I saw them with Alex."),
    ("The Germans and the Japanese people", "culture", "german", None,
     "The Germans and the Germans"),
    ("Yuki visited Germany.", "culture", None, {"japanese": "german", "german": "japanese"},
     "Katharina visited Japan."),
    ("Japanese people like Germans.", "culture", None, {"japanese": "german", "german": "japanese"},
     "Germans like Japanese people."),
    ("An Indian engineer", "culture", None, {"indian": "german"}, "A German engineer"),
    # naming a non-default group explicitly swaps all its forms, neutral 'they' included
    ("Alex said they would come.", "gender", None, {"nonbinary": "female"},
     "Mary said she would come."),
    ("A German engineer", "culture", None, {"german": "indian"}, "An Indian engineer"),
]


@pytest.mark.parametrize(("text", "attribute", "target", "mapping", "expected"), TARGETED_CASES)
def test_targeted_swap(
    swapper: CounterfactualSwapper,
    text: str,
    attribute: str,
    target: str | None,
    mapping: dict[str, str] | None,
    expected: str,
) -> None:
    assert swapper.swap(text, attribute, target=target, mapping=mapping).text == expected


def test_swap_to_is_swap_with_target(swapper: CounterfactualSwapper) -> None:
    res = swapper.swap_to("She met Mary and John.", "gender", "male")
    assert res.text == "He met James and John."
    assert res.groups_before == ["gender:female", "gender:male"]
    assert res.groups_after == ["gender:male"]


def test_swap_to_nonbinary_reports_the_group(swapper: CounterfactualSwapper) -> None:
    res = swapper.swap_to("She is a woman.", "gender", "nonbinary")
    # pronouns and terms only: verb agreement for singular 'they' is out of scope
    assert res.text == "They is a person."
    assert res.groups_after == ["gender:nonbinary"]


ROUND_TRIP = [
    "She told him that his plan was hers.",
    "Mary and her daughter met John's son.",
    "The women thanked the men and the girls.",
    "Ms. Lee's husband is a businessman.",
    "HE GAVE HER FLOWERS.",
    "Yuki and Hiroshi love their mother.",
    "My aunt's nephew is a policeman.",
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_gender_round_trip(swapper: CounterfactualSwapper, text: str) -> None:
    once = swapper.swap(text, "gender")
    assert once.text != text
    assert swapper.swap(once.text, "gender").text == text


CULTURE_ROUND_TRIP = [
    "Germans in Germany drink German beer.",
    "A German met Klaus and Lena.",
    "Japanese people and Germans met in Japan.",
]


@pytest.mark.parametrize("text", CULTURE_ROUND_TRIP)
def test_culture_round_trip_with_an_involution(swapper: CounterfactualSwapper, text: str) -> None:
    involution = {"german": "japanese", "japanese": "german"}
    once = swapper.swap(text, "culture", mapping=involution)
    assert once.text != text
    assert swapper.swap(once.text, "culture", mapping=involution).text == text


SPAN_TEXTS = [
    ("gender", "An actress met her mother, and Mary's wife thanked him."),
    ("gender", "HE said Yuki's sister is a chairwoman."),
    ("culture", "An American met a German in the United States and Japan."),
    ("culture", "Hiroshi and Lena love Japanese people."),
]


@pytest.mark.parametrize(("attribute", "text"), SPAN_TEXTS)
def test_spans_point_at_old_and_new(swapper: CounterfactualSwapper, attribute: str, text: str) -> None:
    res = swapper.swap(text, attribute)
    assert res.changes
    pieces, cursor = [], 0
    for change in res.changes:
        assert text[change.start:change.end] == change.old
        assert res.text[change.new_start:change.new_end] == change.new
        pieces += [text[cursor:change.start], change.new]
        cursor = change.end
    pieces.append(text[cursor:])
    assert "".join(pieces) == res.text  # outside the changes the texts are identical


def test_change_records_groups_and_concepts(swapper: CounterfactualSwapper) -> None:
    res = swapper.swap("I saw her dog.", "gender")
    assert res.changes == [
        SwapChange(start=6, end=9, new_start=6, new_end=9, old="her", new="his",
                   group="female", new_group="male", concept="pronoun:possessive")
    ]
    art = swapper.swap("An American car left.", "culture").changes[0]
    assert (art.old, art.new, art.start, art.concept) == ("An American", "A British", 0, "adjective")
    noun = swapper.swap("An American left.", "culture").changes[0]
    assert (noun.old, noun.new, noun.concept) == ("An American", "A British person", "demonym")


def test_same_source_name_maps_to_same_target(swapper: CounterfactualSwapper) -> None:
    res = swapper.swap("Klaus met Yuki. Klaus smiled at Yuki and Klaus left.", "culture")
    assert res.text == "Hiroshi met Mei. Hiroshi smiled at Mei and Hiroshi left."


def test_two_names_never_merge(swapper: CounterfactualSwapper) -> None:
    # Emma -> James would collide with the James already there, so the next free name is used
    res = swapper.swap_to("Emma and James talked.", "gender", "male")
    assert res.text == "David and James talked."


def test_default_partner(swapper: CounterfactualSwapper) -> None:
    assert swapper.default_partner("gender", "female") == "male"
    assert swapper.default_partner("gender", "male") == "female"
    assert swapper.default_partner("culture", "german") == "japanese"
    assert swapper.default_partner("culture", "egyptian") == "american"  # cyclic


def test_default_partner_of_a_non_default_group_is_an_error(swapper: CounterfactualSwapper) -> None:
    with pytest.raises(BiasInheritError, match="not a default group"):
        swapper.default_partner("gender", "nonbinary")


def test_unknown_names_are_user_errors(swapper: CounterfactualSwapper) -> None:
    with pytest.raises(BiasInheritError, match="Did you mean: gender"):
        swapper.swap("She left.", "gendr")
    with pytest.raises(BiasInheritError, match="Did you mean: female"):
        swapper.swap("She left.", "gender", target="femal")
    with pytest.raises(BiasInheritError, match="Unknown gender group 'woman'"):
        swapper.swap("She left.", "gender", mapping={"woman": "male"})
    with pytest.raises(BiasInheritError) as info:
        swapper.swap("She left.", "gender", target="male", mapping={"female": "male"})
    assert info.value.message == BOTH_TARGET_AND_MAPPING


def test_result_type(swapper: CounterfactualSwapper) -> None:
    res = swapper.swap("No one here.", "gender")
    assert isinstance(res, SwapResult)
    assert (res.text, res.changes, res.changed) == ("No one here.", [], False)
    assert res.mapping == {"female": "male", "male": "female"}


# ---- a third attribute, added as a data file ---------------------------------------------

RELIGION = {
    "attribute": "religion",
    "description": "Religion of the people a text mentions (test fixture).",
    "groups": ["christian", "muslim", "jewish"],
    "group_labels": {"christian": "Christians", "muslim": "Muslims", "jewish": "Jews"},
    "lexicon": {
        "member": {
            "christian": ["Christian", "Christians"],
            "muslim": ["Muslim", "Muslims"],
            "jewish": ["Jew", "Jews"],
        },
        "adjective": {"christian": ["Christian"], "muslim": ["Muslim"], "jewish": ["Jewish"]},
        "worship": {
            "christian": ["church", "churches"],
            "muslim": ["mosque", "mosques"],
            "jewish": ["synagogue", "synagogues"],
        },
        "clergy": {"christian": ["priest"], "muslim": ["imam"], "jewish": ["rabbi"]},
    },
    "names": {
        "christian": {"female": ["Agnes", "Bernadette"], "male": ["Matthew", "Luke"]},
        "muslim": {"female": ["Fatima", "Khadija"], "male": ["Mohammed", "Ali"]},
        "jewish": {"female": ["Esther", "Miriam"], "male": ["Moshe", "Avraham"]},
    },
    "stereotypes": {
        "christian": [{"trait": "judgmental", "polarity": "negative", "claim": "{Group} judge others."}],
        "muslim": [{"trait": "devout", "polarity": "positive", "claim": "{Group} are devout."}],
        "jewish": [{"trait": "studious", "polarity": "positive", "claim": "{Group} love study."}],
    },
    "associations": {"christian": ["pastor"], "muslim": ["merchant"], "jewish": ["lawyer"]},
}


@pytest.fixture()
def religion_swapper(tmp_path: Path) -> CounterfactualSwapper:
    (tmp_path / "religion.json").write_text(json.dumps(RELIGION), encoding="utf-8")
    return CounterfactualSwapper(load_taxonomy([tmp_path]))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The priest walked to the church.", "The imam walked to the mosque."),
        ("Christians and Muslims met.", "Muslims and Jews met."),
        ("Fatima visited the synagogue.", "Esther visited the church."),
        ("Matthew is a Christian scholar.", "Mohammed is a Muslim scholar."),
    ],
)
def test_third_attribute_from_a_data_file(
    religion_swapper: CounterfactualSwapper, text: str, expected: str
) -> None:
    assert religion_swapper.swap(text, "religion").text == expected


def test_third_attribute_names_keep_gender_and_swap_with_gender(
    religion_swapper: CounterfactualSwapper,
) -> None:
    res = religion_swapper.swap("Fatima met her imam.", "gender")
    assert res.text == "Mohammed met his imam."
    assert religion_swapper.taxonomy.detect_groups("Khadija prayed.") == [
        "gender:female", "religion:muslim",
    ]


# ---- detect_groups: a culture name also tells gender --------------------------------------


def test_detect_groups_reports_the_gender_of_a_culture_name() -> None:
    tax = load_taxonomy()
    assert tax.detect_groups("Yuki arrived.") == ["culture:japanese", "gender:female"]
    assert tax.detect_groups("Yuki and Klaus arrived.", ["gender"]) == ["gender:female", "gender:male"]
    assert tax.detect_groups("Yuki arrived.", ["culture"]) == ["culture:japanese"]
    assert tax.detect_groups("Mary arrived.") == ["gender:female"]  # gender names are flat
