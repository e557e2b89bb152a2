"""What every message a pattern can match must have, read from the pattern's text: key words, first piece.

The engine tries a (family, daemon) pair's candidates in catalog order; most of a line's
recognition was literal tests of candidates that cannot match it. Two things a pattern's text
proves about any message its ``search`` matches, cheap to check on the message's
``split(" ")`` pieces (which the engine makes anyway):

- **words**: a run of literal characters outside every group, none quantified, occurs in the
  message as it is; a part of it between two of its spaces (``": reject: "``'s ``reject:``) is
  then one of the message's pieces;
- **first piece**: a pattern anchored by ``^`` whose text up to its first such literal space
  can match no space matches only a message whose first piece that text fullmatches (the
  piece ends at that space): ``^connect from `` one whose first piece is ``connect``; when the
  text is not literal but ends with a literal character
  (``^(?P<queue_id>NOQUEUE|[0-9A-Za-z]{6,}): to=<``), one whose first piece ends with it.

Reading is conservative: what it does not understand proves nothing (no words, no first piece),
and a construct that changes what the text means (inline flags, a top-level ``|``) makes it read
nothing at all; the flags IGNORECASE and VERBOSE too. A pattern's result is never changed, only
candidates it cannot match are skipped; tests/test_needs.py checks every claim against ``re``
(the catalog's patterns on generated messages, and generated patterns).
"""

from __future__ import annotations

import re

#: what a pattern's matches have: (words among the message's pieces, a first piece equal to this,
#: or else a first piece that ends with this character); None: no such claim
Needs = tuple[frozenset[str], str | None, str | None]
NOTHING: Needs = (frozenset(), None, None)

#: a pattern's tokens, as re reads them (a set's first "]" after an optional "^" is a member); a
#: group without groups inside ("flat") is one token
_SET = r"\[(?P<neg>\^)?\]?(?:\\.|[^\]\\])*\]"
_OPEN = r"\((?!\?)|\(\?(?:P<[^>]*>|:|=|!|<=|<!)"
_TOKEN = re.compile(
    r"(?P<lit>[^\\\[\]()|*+?{}.^$]+)"
    r"|\\(?P<esc>.)"
    rf"|(?P<set>{_SET})"
    rf"|(?P<flat>(?P<opener>{_OPEN})(?:\\.|{_SET.replace('?P<neg>', '')}|[^\\()\[])*\))"
    rf"|(?P<open>{_OPEN})"
    r"|(?P<close>\))"
    r"|(?P<quant>(?:[*+?]|\{(?!\})[0-9]*,?[0-9]*\})[?+]?)"
    r"|(?P<meta>[.^$|{}\]])",
    re.DOTALL,
)
#: escapes that can never match a space (\b is zero-width, and the same before a space as at the end)
_SPACE_FREE_ESCAPES = frozenset("dwSb")
_LOOKAROUNDS = ("(?=", "(?!", "(?<=", "(?<!")
_CACHE: dict[tuple[str, int], Needs] = {}  # a pure function of its arguments: never stale


class _Unread(Exception):
    """A construct this reading leaves alone: the pattern proves nothing."""


def _set_space_free(body: str, negated: bool) -> bool:
    """Whether the set ``[body]`` (``[^body]`` when negated) can never match a space."""
    if negated:  # then the space, or \s, must be one of its members
        j = 0
        while j < len(body):
            if body[j] == " " or body.startswith("\\s", j):
                return True
            j += 2 if body[j] == "\\" else 1
        return False
    j = 0
    low = ""  # the last plain member: a range's low end
    while j < len(body):
        c = body[j]
        if c == "\\":
            d = body[j + 1 : j + 2]
            if d == " " or (d.isalnum() and d not in "dwS"):
                return False
            low = "" if d.isalnum() else d
            j += 2
        elif c == " ":
            return False
        elif c == "-" and low and j + 1 < len(body):
            high = body[j + 1]
            if high == "\\" or low <= " " <= high:
                return False
            low = ""
            j += 2
        else:
            low = c
            j += 1
    return True


def _space_free(text: str) -> bool:
    """Whether the atom ``text`` (of :func:`_atoms`) can never match a space."""
    i = 0
    for t in _TOKEN.finditer(text):
        if t.start() != i:
            return False
        i = t.end()
        kind = t.lastgroup
        if kind == "lit":
            if " " in t.group():
                return False
        elif kind == "esc":
            d = t.group("esc")
            if d == " " or (d.isalnum() and d not in _SPACE_FREE_ESCAPES):
                return False
        elif kind == "set" or kind == "neg":
            negated = t.group("neg") is not None
            if not _set_space_free(text[t.start() + (2 if negated else 1) : i - 1], negated):
                return False
        elif kind == "flat" or kind == "opener":
            opener = t.group("opener")
            if opener.startswith(_LOOKAROUNDS) or not _space_free(t.group()[len(opener) : -1]):
                return False  # a lookaround is zero-width, but what it looks at is not this piece's
        elif kind == "open":
            if t.group().startswith(_LOOKAROUNDS):
                return False
        elif kind == "meta" and t.group() in ".^$":
            return False
    return i == len(text)


#: a top-level atom: (its literal text or None, start, end)
_Atom = tuple[str | None, int, int]


def _atoms(p: str) -> list[_Atom]:
    """The pattern's top-level atoms: literal runs, and the rest (a group is one atom)."""
    atoms: list[_Atom] = []
    depth = 0
    group_start = 0
    i = 0
    for t in _TOKEN.finditer(p):
        if t.start() != i:
            raise _Unread  # "(?" of inline flags, comments, conditionals, back-references; a bad set
        kind = t.lastgroup
        end = t.end()
        if kind == "lit" or kind == "esc":
            if depth == 0:
                d = t.group("esc")
                atoms.append((t.group() if d is None else None if d.isalnum() else d, i, end))
        elif kind == "quant":
            if depth == 0:
                if not atoms:
                    raise _Unread
                text, start, stop = atoms.pop()
                if text is not None and len(text) > 1:  # only its last character is repeated
                    atoms.append((text[:-1], start, stop - 1))
                    start = stop - 1
                atoms.append((None, start, end))
        elif kind == "open":
            if depth == 0:
                group_start = i
            depth += 1
        elif kind == "close":
            depth -= 1
            if depth < 0:
                raise _Unread
            if depth == 0:
                atoms.append((None, group_start, end))
        elif kind == "meta" and t.group() == "|":
            if depth == 0:
                raise _Unread  # a top-level alternative: nothing is required of every match
        elif depth == 0:  # a set, a flat group, a meta character
            atoms.append((None, i, end))
        i = end
    if depth or i != len(p):
        raise _Unread
    return atoms


def needs(pattern: str, flags: int = 0) -> Needs:
    """What every message ``re.compile(pattern, flags).search`` matches has (see the module)."""
    key = (pattern, flags)
    found = _CACHE.get(key)
    if found is None:
        found = _CACHE[key] = _read(pattern, flags)
    return found


_REFUSED = int(re.IGNORECASE | re.VERBOSE)  # ints: RegexFlag's operators are Python code
_MULTILINE = int(re.MULTILINE)


def _read(pattern: str, flags: int) -> Needs:
    if flags & _REFUSED:
        return NOTHING
    try:
        atoms = _atoms(pattern)
    except _Unread:
        return NOTHING
    words: set[str] = set()
    run: list[str] = []
    for text, _, _ in [*atoms, (None, 0, 0)]:
        if text is not None:
            run.append(text)
        elif run:
            joined = "".join(run)
            if joined.count(" ") > 1:
                words.update(w for w in joined.split(" ")[1:-1] if w)
            run = []
    first = last = None
    if atoms and atoms[0] == (None, 0, 1) and pattern.startswith("^") and not flags & _MULTILINE:
        head: list[str | None] = []
        for text, start, end in atoms[1:]:
            if text is not None and " " in text:  # the first literal space ends the first piece
                head.append(text[: text.index(" ")])
                if all(h is not None for h in head):
                    first = "".join(h for h in head if h is not None)
                elif head[-1] or head[-2]:
                    last = (head[-1] or head[-2] or "")[-1]
                break
            if text is None and not _space_free(pattern[start:end]):
                break
            head.append(text)
    return frozenset(words), first, last
