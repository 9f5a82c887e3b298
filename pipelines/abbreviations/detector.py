"""spaCy component ``medkg_abbreviation_detector``: scispaCy's detector with the long form found in the text.

scispaCy's ``abbreviation_detector`` implements Schwartz & Hearst (2003): for
"long form (SF)", look back at most ``min(|SF| + 5, 2|SF|)`` words and take the
shortest stretch ending before the parenthesis that holds the short form's
characters in order, the first at the start of a word. Two details of its code
go wrong on medkg's tokens, which split inside words ("von Hippel - Lindau",
"N - methyl - D - aspartate"; see :mod:`medkg.pipelines.text.tokenizer`):

- the window is counted in *tokens*, so a hyphenated name uses up three or
  five of its words: "von Hippel-Lindau tumor suppressor gene (VHL)" never
  reaches "von", the definition is missed, and the acronym table's disease
  stays on every "VHL" of an abstract about the gene;
- ``find_abbreviation`` searches the tokens joined by single spaces but maps
  the character it found back through the tokens' own widths, so on a window
  with split words the long form starts a few characters late
  ("methyl-D-aspartate" for "NMDA").

This subclass keeps scispaCy's matcher, short-form filter and bookkeeping and
changes the search: the window is counted in whitespace-separated words, as
in the paper, and stops at the sentence start (the paper looks within the
sentence; without the limit "myotonic dystrophy (DM)" found "dystrophy. In
myotonic dystrophy"); the characters are searched in the document's own text;
a short form is at most 10 characters (the paper's limit; scispaCy limits
each token, so "Addisons disease" passed); a chemical's leading locant joins
the long form ("1-methyl-4-phenyl-...", "(R)-alpha-methylhistamine"); a long
form with unbalanced brackets is none; and capital letters followed by
lower-case words in the parenthesis are the short form with a note ("mean
arterial pressure (MAP femoral)": 9 "MAP"s were methamphetamine on BC5CDR dev).
On NCBI-disease dev: F1 +0.005 (10 gene "VHL"s no longer diseases), BC5CDR dev
+0.0004 together with the first-letter rule in
:mod:`medkg.pipelines.abbreviations.resolver`; the held-out tenths unchanged.
"""

from __future__ import annotations

from collections import defaultdict

from scispacy.abbreviation import AbbreviationDetector, short_form_filter, span_contains_unbalanced_parentheses
from spacy.tokens import Doc, Span, Token

# Schwartz & Hearst: a short form has at most this many characters
SHORT_FORM_CHARS = 10
# a parenthesis of more tokens holds a long form, not a short one (scispaCy's split)
SHORT_FORM_TOKENS = 3
LONGEST_PARENTHESIS = 8
LOCANT_CHARS = frozenset("0123456789,-'()[]+")


def window_start(doc: Doc, open_paren: int, max_words: int) -> int:
    """The first token of the ``max_words`` whitespace-separated words before token ``open_paren``,
    not reaching back past the start of its sentence."""
    words = 0
    for i in range(open_paren - 1, -1, -1):
        if i == 0 or doc[i - 1].whitespace_:
            words += 1
            if words == max_words or doc[i].is_sent_start:
                return i
        elif doc[i].is_sent_start:
            # the sentencizer starts "(R)-alpha-methylhistamine" after its bracket
            return i - 1 if doc[i - 1].text in ("(", "[") else i
    return 0


def find_long_form(window: Span, short: Span) -> Span | None:
    """Schwartz & Hearst's long form of ``short`` at the end of ``window``, searched in the document's text.

    The short form's letters and digits, last first, are found right to left in the window; the first must
    start a word. A locant before that word ("1-" in "1-methyl-...") is taken in with it.
    """
    doc = window.doc
    base, text = window.start_char, window.text
    at = len(text) - 1
    letters = [c.lower() for c in short.text if c.isalnum()]
    for n, char in enumerate(reversed(letters)):
        first = n == len(letters) - 1
        while at >= 0 and (text[at].lower() != char or (first and at > 0 and text[at - 1].isalnum())):
            at -= 1
        if at < 0:
            return None
        at -= 1
    start = at + 1
    word = start
    while word > 0 and not text[word - 1].isspace():
        word -= 1
    if word < start and text[start - 1] in "-([" and all(c in LOCANT_CHARS for c in text[word:start]):
        start = word
    found = doc.char_span(base + start, window.end_char, alignment_mode="expand")
    if found is None or not len(found) or not _balanced(found.text):
        return None  # "combination [MTX + 5-FU + CY (CMF)": the letters were gathered across a bracket
    return found


def _balanced(text: str) -> bool:
    depth = {"(": 0, "[": 0}
    for c in text:
        if c in "([":
            depth[c] += 1
        elif c in ")]":
            opener = "(" if c == ")" else "["
            if depth[opener] == 0:
                return False
            depth[opener] -= 1
    return not any(depth.values())


def candidates(doc: Doc, matches: list[tuple[int, int, int]]) -> list[tuple[Span, Span]]:
    """(long form window, short form) pairs for the parentheses ``matches`` (their insides, as token ranges)."""
    found = []
    for _, start, end in matches:
        if end - start > LONGEST_PARENTHESIS or start == 1:
            continue
        if end - start > SHORT_FORM_TOKENS:  # "SF (long form)": the word before is the short form
            short, window = doc[start - 2 : start - 1], doc[start:end]
            if span_contains_unbalanced_parentheses(window):
                continue
        else:
            short = doc[start:end]
            if end - start > 1 and _acronym(doc[start]) and all(t.is_lower for t in doc[start + 1 : end]):
                short = doc[start : start + 1]  # "mean arterial pressure (MAP femoral)": a note after the letters
            length = sum(len(t) for t in short)
            end = start - 1
            while end > 0 and doc[end - 1].text in ("(", "["):  # "testosterone propionate [(TP)"
                end -= 1
            window = doc[window_start(doc, end, min(length + 5, length * 2)) : end]
        if len(window) and short_form_filter(short) and len(short.text) <= SHORT_FORM_CHARS:
            found.append((window, short))
    return found


def _acronym(token: Token) -> bool:
    return 2 <= len(token) <= SHORT_FORM_CHARS and token.text.isalnum() and token.text.isupper()


class TextAbbreviationDetector(AbbreviationDetector):
    """scispaCy's ``AbbreviationDetector`` with the long-form search above; sets the same attributes."""

    def __call__(self, doc: Doc) -> Doc:
        matches = [(m, start + 1, end - 1) for m, start, end in self.matcher(doc)]
        for long_form, short_forms in self.find_matches_for(candidates(doc, matches), doc):
            for short in short_forms:
                short._.long_form = long_form
                doc._.abbreviations.append(short)
        return doc

    def find_matches_for(self, filtered: list[tuple[Span, Span]], doc: Doc) -> list[tuple[Span, set[Span]]]:
        """Each definition's long form with every occurrence of its short form (scispaCy's bookkeeping:
        the first definition of a long form or a short form wins)."""
        rules: dict[str, Span] = {}
        occurrences: dict[Span, set[Span]] = defaultdict(set)
        seen_long: set[str] = set()
        seen_short: set[str] = set()
        for window, short in filtered:
            long = find_long_form(window, short)
            if long is None or long.text in seen_long or short.text in seen_short:
                continue
            seen_long.add(long.text)
            seen_short.add(short.text)
            occurrences[long].add(short)
            rules[long.text] = long
            self.global_matcher.add(long.text, [[{"ORTH": t.text} for t in short]])
        keys = set()
        for match, start, end in self.global_matcher(doc):
            key = self.global_matcher.vocab.strings[match]
            keys.add(key)
            occurrences[rules[key]].add(doc[start:end])
        for key in keys:
            self.global_matcher.remove(key)
        return list(occurrences.items())
