"""The few grammar rules a counterfactual swap needs, as small pure functions.

English marks gender in pronouns whose forms do not line up one to one: female *her* is both
the object (*I saw her.*) and the possessive determiner (*her book*), where male has *him* and
*his*; male *his* is both the determiner (*his car*) and the possessive pronoun (*the car is
his*), where female has *her* and *hers*. Culture words have a similar split: *German* is a noun
(*a German*) and an adjective (*German cars*), but the Japanese counterparts are *a Japanese
person* and *Japanese cars*. These rules decide from the next word (and, for nouns, the previous
one), without a parser.

Determiner rule (``is_determiner_position``): *her*/*his* is a determiner when the next word can
start a noun phrase it modifies: a noun or an adjective ('own', 'new', 'car'), a number, a
capitalised word. It is a standalone pronoun when followed by punctuation or the end, or by a
word of a closed class: an article or determiner (*gave her the book*), a pronoun (*told her
she*), a preposition (*to her at*), a conjunction or relative word (*her and*, *his who*), an
auxiliary or a common bare verb (*his is*, *let her go*), an adverb (*saw her yesterday*, any
``-ly`` word except the listed ``-ly`` adjectives and nouns such as *family*, *lovely*).

Known limits: a noun-verb word after *her* is read as a noun (*made her work* -> *made his
work*); a capitalised word is read as a noun (*told her John left* -> *told his John left*);
*first*/*only* are read as adjectives (*saw her only once* -> *saw his only once*). Every
listed word class is closed and small on purpose; extend the sets when a real case needs it.
"""

from __future__ import annotations

import re

__all__ = [
    "at_sentence_start",
    "indefinite_article",
    "is_demonym_noun",
    "is_determiner_position",
    "match_case",
    "next_word",
    "previous_word",
]

ARTICLES_AND_DETERMINERS = frozenset(
    "a an the this that these those my your his her its our their some any no every each "
    "another all both either neither much many more most few several such what which whose".split()
)
PERSONAL_PRONOUNS = frozenset(
    "i me you he him she it we us they them myself yourself himself herself itself ourselves "
    "themselves mine yours hers ours theirs one someone something everyone everything".split()
)
PREPOSITIONS = frozenset(
    "to for with at in on about from by into onto of over after before under like as than "
    "through across during without within toward towards against among between behind beside "
    "near upon since until till per via off up down out around along past".split()
)
CONJUNCTIONS_AND_RELATIVES = frozenset(
    "and or but nor so yet because if when whenever while although though unless whether "
    "where who whom why how".split()
)
AUXILIARIES = frozenset(
    "is was are were be been being am has have had do does did will would can could shall "
    "should may might must isn't wasn't doesn't didn't won't can't couldn't".split()
)
# Bare verbs that follow an object after let/make/help/see/hear ('let her go'). Words that are
# as often nouns after a possessive ('work', 'run', 'smile') are deliberately not listed.
BARE_VERBS = frozenset(
    "go come leave stay cry know think feel get take finish wait sit sleep eat speak say tell "
    "give see hear become decide arrive believe understand want need pay stop keep find buy "
    "sell bring read write open meet join choose".split()
)
# Common finite verbs, used only to tell 'a German said' (noun) from 'a German car' (adjective).
FINITE_VERBS = frozenset(
    "said says told tells asked asks wants wanted lives lived works worked came comes went goes "
    "won wins made makes took takes got gets knew knows thought thinks felt feels became becomes "
    "left leaves decided decides started starts ran runs wrote writes likes liked loves loved "
    "moved moves arrived arrives met meets saw sees bought buys sold sells spoke speaks gave "
    "gives found finds kept keeps held holds stood stands sat sits ate eats drove drives flew "
    "grew grows built builds sent sends spent spends taught teaches brought brings paid pays "
    "lost loses heard hears meant means slept sleeps led leads".split()
)
ADVERBS = frozenset(
    "again yesterday today tonight tomorrow now then there here too also well soon later once "
    "twice already still away back home anymore instead together alone enough ever never "
    "always often sometimes not just almost even really quite rather very".split()
)
# '-ly' words that are adjectives or nouns, so 'her family' and 'her lovely dress' stay possessive.
LY_NOT_ADVERBS = frozenset(
    "family only early lovely friendly daily weekly monthly yearly hourly nightly elderly "
    "likely unlikely holy ugly silly lonely curly belly ally rally bully lily jelly supply "
    "reply assembly homely costly deadly lively lowly orderly scholarly worldly timely comely "
    "womanly manly motherly fatherly sisterly brotherly heavenly cowardly wily jolly burly "
    "portly stately saintly sickly chilly hilly smelly woolly bubbly italy".split()
)
# After 'very', these keep the possessive reading: 'her very own', 'his very first'.
VERY_POSSESSIVE = frozenset("own first last best favourite favorite".split())
DEMONYM_DETERMINERS = frozenset(
    "a an the one every each another this that any no some".split()
)

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def next_word(text: str, end: int) -> str | None:
    """The word right after ``text[:end]`` (spaces skipped), or None at punctuation or the end."""
    i = end
    while i < len(text) and text[i] in " \t":
        i += 1
    m = _WORD.match(text, i)
    return m.group(0) if m else None


def previous_word(text: str, start: int) -> tuple[str, int] | None:
    """The word right before ``text[start:]`` (spaces skipped) and where it starts, or None."""
    i = start
    while i > 0 and text[i - 1] in " \t":
        i -= 1
    j = i
    while j > 0 and (text[j - 1].isalnum() or text[j - 1] in "'’"):
        j -= 1
    return (text[j:i], j) if j < i else None


def _is_adverb(word: str) -> bool:
    return word in ADVERBS or (word.endswith("ly") and word not in LY_NOT_ADVERBS)


def is_determiner_position(text: str, end: int) -> bool:
    """Whether the possessive word ending at ``end`` modifies a following noun phrase.

    True: 'her [book]', 'his [own] car' (-> female 'her'). False: 'I saw her.', 'the car is
    his', 'gave her the book' (-> object 'him' or possessive pronoun 'hers').
    """
    word = next_word(text, end)
    if word is None:
        return False  # punctuation, quote, line break or the end of the text
    w = word.lower()
    if w[0].isdigit():
        return True  # 'her 3 children'
    if w == "very":
        after = next_word(text, text.index(word, end) + len(word))
        return after is not None and after.lower() in VERY_POSSESSIVE
    if w == "i":
        return False
    closed = (
        ARTICLES_AND_DETERMINERS | PERSONAL_PRONOUNS | PREPOSITIONS | CONJUNCTIONS_AND_RELATIVES
        | AUXILIARIES | BARE_VERBS
    )
    if w in closed or _is_adverb(w):
        return False
    return True


def is_demonym_noun(text: str, start: int, end: int) -> bool:
    """Whether a word that is both demonym and adjective ('German') is used as a noun.

    Noun: after a determiner and before punctuation, the end, a function word or a past-tense
    or common finite verb ('a German.', 'the German who', 'a German said', 'a German visited'). Adjective otherwise: 'German cars', 'German-made',
    'She is German.' (no determiner). Known limit: 'the German' meaning the whole people
    reads as a singular noun.
    """
    if end < len(text) and text[end] == "-":
        return False
    word = next_word(text, end)
    if word is not None:
        w = word.lower()
        function_word = (
            w in PREPOSITIONS or w in CONJUNCTIONS_AND_RELATIVES or w in AUXILIARIES
            or w in FINITE_VERBS or w in ADVERBS or w in {"that", "which"}
            or (w.endswith("ed") and len(w) > 3)  # 'a German visited' (regular past tense)
        )
        if not function_word:
            return False  # it modifies the next word
    prev = previous_word(text, start)
    return prev is not None and prev[0].lower() in DEMONYM_DETERMINERS


_AN_EXCEPTIONS = ("uni", "use", "usu", "uti", "eu", "one", "once", "ewe")
_AN_SILENT_H = ("hour", "honest", "honor", "honour", "heir")


def indefinite_article(word: str) -> str:
    """'a' or 'an' for ``word`` by its first sound, from its spelling (a small rule set)."""
    w = word.lower()
    if w.startswith(_AN_SILENT_H):
        return "an"
    if w[:1] in ("a", "e", "i", "o", "u") and not w.startswith(_AN_EXCEPTIONS):
        return "an"
    return "a"


def at_sentence_start(text: str, start: int) -> bool:
    """Whether ``text[start:]`` begins a sentence: the text start, or after . ! ? a line break
    or a double quote (spaces skipped)."""
    i = start
    while i > 0 and text[i - 1] in " \t":
        i -= 1
    return i == 0 or text[i - 1] in '.!?\n"“'



def match_case(
    source: str, target: str, source_form: str | None = None, sentence_start: bool = True
) -> str:
    """``target`` written in the case pattern of ``source``: ALL CAPS or a capital first letter.

    A capital is carried over only when it is positional: ``source_form`` (the form as the
    lexicon writes it) starts lower-case ('He' for 'he'), or the word starts a sentence
    ('Egypt is ...' -> 'The United States is ...', but 'from Egypt' -> 'from the United States').
    """
    letters = [c for c in source if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return target.upper()
    if source[:1].isupper() and target[:1].islower():
        lexical_capital = source_form is not None and source_form[:1].isupper()
        if not lexical_capital or sentence_start:
            return target[0].upper() + target[1:]
    return target
