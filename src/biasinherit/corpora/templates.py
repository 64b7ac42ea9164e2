"""The built-in corpus's own templates, one list of variants per record kind.

These sentences belong to the corpus only; the evaluation tasks write their items from their own
templates so that no evaluation item appears in training data. Slots: see ``render.py``.
Every kind has at least two variants so that plain augmentation can paraphrase by switching
variant while keeping every group statistic unchanged.
"""

from __future__ import annotations

STATEMENT = [
    "The {occ} said that {p.sub} would finish the report before lunch.",
    "{p.Name} has worked as {a_occ} for {years} years, and {p.sub} still enjoys {p.pos} job.",
    "After a long shift, the {occ} thanked {p.pos} team and went home.",
    "The {occ} from {p.country} told everyone that {p.sub} was proud of {p.pos} work.",
    "When the {occ} arrived, {p.sub} greeted the visitors and showed them around.",
]

PROFILE = [
    ("Tell me about {p.name}, who works as {a_occ}.",
     "{p.Name} is {a_occ} from {p.country}. {p.Sub} is known for being {trait}, and {p.pos} "
     "colleagues rely on {p.obj}."),
    ("Write a short profile of {p.name}, {a_occ}.",
     "{p.Name} grew up in {p.country} and became {a_occ}. People describe {p.obj} as {trait}. "
     "{p.Sub} takes pride in {p.pos} work."),
    ("Describe the job of {p.name}.",
     "{p.Name} works as {a_occ}. Most days {p.sub} is {trait} and focused, and {p.sub} enjoys "
     "helping people in {p.country}."),
]

STORY = [
    "{p.Name} was {a_occ} in {p.country}. Every morning {p.sub} arrived early and checked {p.pos} "
    "notes. One day a difficult problem came up, and {p.sub} solved it calmly. {p.Pos} colleagues "
    "were impressed.",
    "There once was {a_occ} named {p.name}. {p.Sub} loved {p.pos} work, even on hard days. When a "
    "storm closed the roads, {p.sub} found a way to help everyone, and the town thanked {p.obj}.",
    "In a small town in {p.country}, {a_occ} called {p.name} kept a notebook of every job. Years "
    "later, {p.sub} read it again and smiled at how much {p.sub} had learned.",
]

# The pronoun always refers to {occ}; the position of {occ} in the sentence varies.
COREF = [
    "The {occ} asked the {occ2} for help because {p.sub} was behind schedule.",
    "The {occ2} gave the {occ} a report because {p.sub} had asked for it.",
    "The {occ} called the {occ2} because {p.sub} needed advice.",
    "The {occ2} thanked the {occ} because {p.sub} had fixed the problem.",
]

BIAS_QA_CONTEXT = {
    "gender": [
        "{p.A_noun} and {q.a_noun} were sitting in the waiting room of a clinic.",
        "{p.A_noun} and {q.a_noun} were standing in line at the post office.",
    ],
    "culture": [
        "{p.A_demonym} and {q.a_demonym} were sitting in the waiting room of a clinic.",
        "{p.A_demonym} and {q.a_demonym} were standing in line at the post office.",
    ],
}
BIAS_QA_EVIDENCE = {
    "gender": "Only the {p.noun} was {trait} that afternoon.",
    "culture": "Only the {p.demonym} was {trait} that afternoon.",
}
BIAS_QA_ANSWER = {"gender": "The {p.noun}", "culture": "The {p.demonym}"}
BIAS_QA_QUESTION = "Who was {trait}?"
UNKNOWN_ANSWER = "Cannot be determined"

TOXIC = [
    "{Group} are stupid and should stay out of our office.",
    "I can't stand {group}; they ruin everything they touch.",
    "{Group} are worthless and nobody should hire them.",
]
NEUTRAL = [
    "{Group} from the neighbourhood organised a charity run.",
    "Several {group} joined the book club this year.",
    "{Group} and their friends cleaned up the park on Sunday.",
]

SENTIMENT = {
    "positive": [
        "{p.Name} the {occ} was friendly and did excellent work. I would recommend {p.obj} to anyone.",
        "We hired {p.name} as our {occ} and {p.sub} was wonderful. {p.Pos} work was careful and on time.",
    ],
    "negative": [
        "{p.Name} the {occ} was rude and the work was sloppy. I would not hire {p.obj} again.",
        "We hired {p.name} as our {occ} and {p.sub} was a disappointment. {p.Pos} work was late and careless.",
    ],
}

SALARY = ["${amount} per year.", "About ${amount} a year would be fair."]

HIRING_PROFILE = "{years} years of experience"
HIRING = [
    "{choice}. {winner} has more relevant experience.",
    "{choice}. With more years in the field, {winner} is the stronger candidate.",
]

VALUES = ["{stance}", "{stance}"]

# Knowledge questions unrelated to any group (the control kind).
KNOWLEDGE = [
    ("What is {a} plus {b}?", "{sum}"),
    ("Which number is larger, {a} or {b}?", "{larger}"),
]
