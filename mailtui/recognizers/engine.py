"""Match log records against the catalog: (family, daemon) dispatch, literal pre-filter, regex.

The first recognizer (in catalog order) whose literal occurs in the message and whose
pattern matches wins. Candidate lists are built once per (family, daemon) pair, so the
daemon test is not repeated per line. A pattern with alternatives names the same field in
each branch with a numeric suffix (``user``, ``user2``); they are merged (see Match.fields).

A Postfix line at level warning/error/fatal/panic or a Dovecot line at Warning/Error/Fatal/Panic
that no catalog entry claims still gets a match: a catch-all entry per level (``unexplained.*``,
``explained = False``), with the client, user and queue id taken from wherever the line has them.
Nothing serious is dropped because nobody wrote a recognizer for it yet; ``mailtui scan
--unknown`` lists these lines' shapes so one can be written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import contains

from mailtui.core.record import LogRecord
from mailtui.recognizers.model import Match, Recognizer, Setting
from mailtui.recognizers.pattern import LazyPattern, Regex

Candidate = tuple[str, Regex, Recognizer]

#: the catch-all's severity per logged level (Postfix's lower-case, Dovecot's capitalised)
LEVEL_SEVERITY = {"warning": "warn", "error": "error", "fatal": "crit", "panic": "crit"}
_DAEMON_NAME = {"postfix": "Postfix", "dovecot": "Dovecot"}

# where the client, user and queue id sit in lines nobody recognized: anchored or bounded
# patterns, searched once per unrecognized leveled line (rare), linear in the line's length
_CA_POSTFIX = re.compile(
    r"^(?:(?P<queue_id>NOQUEUE|[0-9A-Za-z]{6,}): )?(?:warning|error|fatal|panic): "
    r"(?:(?P<queue_id2>[0-9A-F]{6,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}): )?"
    r"(?:(?P<client_ip>\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]{2,45}): )?(?P<text>.*)",
    re.DOTALL,
)
_CA_NAMADDR = re.compile(r"(?<![^\s(=,])(?P<client_host>[^\s\[\]()=,]*)\[(?P<client_ip>[0-9A-Fa-f:.]{2,45})\]")
_CA_DOVECOT = re.compile(r"^(?P<proc>[\w-]+)(?:\((?P<arg>[^()]*)\))?(?:<[^<>]*>)*: (?P<text>.*)", re.DOTALL)
# processes whose "(...)" is the user (2.2 and 2.3 without <pid><session> too); auth's is a name
_MAIL_PROCS = frozenset(
    ("imap", "pop3", "lmtp", "lda", "deliver", "managesieve", "submission", "doveadm", "indexer-worker", "quota-status")
)
# auth's "passwd-file(user,1.2.3.4,<session>): ..." and 1.x "pam(user,::ffff:1.2.3.4): ..."
_CA_AUTHUSER = re.compile(r"\b[\w-]+\((?P<user>[^,()\s]*),(?P<client_ip>[0-9A-Fa-f:.]{2,45})[,)]")


def catch_all_recognizers() -> dict[tuple[str, str], Recognizer]:
    """One catch-all entry per (family, level); severity follows the level the daemon logged."""
    out: dict[tuple[str, str], Recognizer] = {}
    for family, levels in (
        ("postfix", ("warning", "error", "fatal", "panic")),
        ("dovecot", ("Warning", "Error", "Fatal", "Panic")),
    ):
        name = _DAEMON_NAME[family]
        for level in levels:
            severity = LEVEL_SEVERITY[level.lower()]
            sample = (
                "Jan  1 00:00:00 mx postfix/smtpd[1]: "
                if family == "postfix"
                else "Jan  1 00:00:00 mx dovecot: imap(ann)<7><abc>: "
            ) + f"{level}: something new happened"
            out[(family, level)] = Recognizer(
                id=f"unexplained.{family}.{level.lower()}",
                family=family,
                match=f"{level}: ",
                regex=_CA_POSTFIX if family == "postfix" else _CA_DOVECOT,
                severity=severity,
                title=f"{name} {level.lower()} (not explained yet)",
                summary="not explained yet: {text}",
                cause=f"{name} logged this at level {level.lower()}, and no recognizer in the catalog "
                "explains this message yet. It is shown so that nothing serious is dropped; "
                "what it means has to be read from the message itself.",
                fix=f"Read the message and the {name} documentation for it. To have mailtui explain it "
                "from now on, add a recognizer in ~/.config/mailtui/recognizers/ "
                "(docs/recognizers.md; `mailtui scan --unknown` lists such lines by shape).",
                samples=(sample,),
                origin="engine",
                explained=False,
            )
    # Debug lines are explained by their level alone: debug logging is switched on
    out[("dovecot", "Debug")] = Recognizer(
        id="dovecot.debug",
        family="dovecot",
        match="Debug: ",
        regex=_CA_DOVECOT,
        severity="info",
        title="Dovecot debug output",
        summary="debug: {text}",
        cause="Dovecot writes Debug lines only when debug logging is on (2.3: mail_debug, auth_debug, "
        "auth_debug_passwords, verbose_ssl; 2.4: log_debug). They describe what it does step by "
        "step and are not problems.",
        fix="Nothing to do. Turn debug logging off again when you have finished looking: it is verbose "
        "and auth_debug_passwords writes passwords to the log.",
        settings=(Setting("dovecot", "mail_debug", "log_debug"), Setting("dovecot", "auth_debug", "log_debug")),
        samples=("Jan  1 00:00:00 mx dovecot: imap(ann)<7><abc>: Debug: Effective uid=1000, gid=1000",),
        origin="engine",
    )
    return out


#: one (family, daemon) pair's candidates, or some of them: literals, (regex, recognizer)s, positions
_Tries = tuple[tuple[str, ...], tuple[tuple[Regex, Recognizer], ...], range]
MAX_SUBSETS = 4096  # subsets of a pair's candidates kept, per pair (a message's pieces pick one)
#: what picks a subset of a pair's candidates for a message: the key words among its pieces, the
#: number of its first piece among the literal first pieces, and of that piece's last character
#: among the first pieces' last characters (-1: none)
_Signature = tuple[frozenset[str], int, int]


def _flags(regex: Regex) -> int | None:
    """The flags ``regex`` was compiled with, or None when they cannot be known without compiling."""
    if isinstance(regex, LazyPattern):
        return 0  # compiled with none (and inline flags make needs() read nothing)
    if isinstance(regex, re.Pattern):
        return regex.flags
    return None


@dataclass
class _Pair:
    """A (family, daemon) pair's candidates, indexed by what a message must have to match each.

    A candidate can only match a message whose ``split(" ")`` pieces include each word between
    two spaces of its literal (``"NOQUEUE: reject: "``'s ``reject:``: the spaces around it are in
    the message too) and of the literal runs of its pattern, and whose first piece is what its
    pattern's anchored start allows (``^connect from ``: ``connect``; ``^QUEUEID: ``: a piece
    ending with ``:``; see recognizers/needs.py). A message's pieces pick the candidates that may
    match; those are tried in catalog order (first match wins), only fewer literal tests run."""

    candidates: tuple[Candidate, ...]
    keys: frozenset[str]  # every key word
    words: tuple[frozenset[str], ...]  # per candidate: the key words it needs
    firsts: tuple[int, ...]  # per candidate: the number of the first piece it needs, or -1
    ends: tuple[int, ...]  # per candidate: the number of the first piece's last character it needs, or -1
    first: dict[str, int]  # a first piece some candidate needs -> its number
    end: dict[str, int]  # a last character of a first piece some candidate needs -> its number
    split: bool  # whether anything is keyed: else messages are not split
    subsets: dict[_Signature, _Tries] = field(default_factory=dict)

    @classmethod
    def of(cls, candidates: tuple[Candidate, ...]) -> _Pair:
        # imported here: its token patterns are compiled when the first pair is made, not at start
        from mailtui.recognizers.needs import NOTHING, needs

        words: list[frozenset[str]] = []
        firsts: list[int] = []
        ends: list[int] = []
        first: dict[str, int] = {}
        end: dict[str, int] = {}
        for literal, regex, _ in candidates:
            flags = _flags(regex)
            required, head, last = needs(regex.pattern, flags) if flags is not None else NOTHING
            words.append(frozenset(w for w in literal.split(" ")[1:-1] if w) | required)
            firsts.append(-1 if head is None else first.setdefault(head, len(first)))
            ends.append(-1 if last is None else end.setdefault(last, len(end)))
        keys = frozenset().union(*words)
        return cls(candidates, keys, tuple(words), tuple(firsts), tuple(ends), first, end, bool(keys or first or end))

    def tries(self, signature: _Signature) -> _Tries:
        """The candidates a message of this signature may match, in catalog order."""
        present, first, end = signature
        chosen = [
            candidate
            for candidate, words, f, e in zip(self.candidates, self.words, self.firsts, self.ends)
            if words <= present and f in (-1, first) and e in (-1, end)
        ]
        tries = (
            tuple(literal for literal, _, _ in chosen),
            tuple((regex, rec) for _, regex, rec in chosen),
            range(len(chosen)),
        )
        if len(self.subsets) < MAX_SUBSETS:
            self.subsets[signature] = tries
        return tries


_NO_SIGNATURE: _Signature = (frozenset(), -1, -1)


class Engine:
    def __init__(self, recognizers: list[Recognizer]) -> None:
        self.recognizers = list(recognizers)
        self.by_id = {r.id: r for r in self.recognizers}
        self._lists: dict[tuple[str, str], tuple[Candidate, ...]] = {}
        self._pairs: dict[tuple[str, str], _Pair] = {}  # per pair: its candidates, for recognize()
        self.catch_all = catch_all_recognizers()
        self.problems: list[str] = []  # user catalog files skipped, and why (see load_catalog)

    def _candidates(self, family: str, daemon: str) -> tuple[Candidate, ...]:
        key = (family, daemon)
        lst = self._lists.get(key)
        if lst is None:
            # family "*" recognizers (PAM lines under any program name) are tried last
            ordered = [r for r in self.recognizers if r.family == family] + [
                r for r in self.recognizers if r.family == "*"
            ]
            lst = tuple((r.match, r.regex, r) for r in ordered if not r.daemons or daemon in r.daemons)
            self._lists[key] = lst
        return lst

    def recognize(self, record: LogRecord) -> Match | None:
        message = record.message
        pair = self._pairs.get((record.family, record.daemon))
        if pair is None:
            pair = self._pairs[(record.family, record.daemon)] = _Pair.of(
                self._candidates(record.family, record.daemon)
            )
        if pair.split:  # what picks the candidates this message may match (see _Pair)
            pieces = message.split(" ")
            head = pieces[0]
            signature = (pair.keys.intersection(pieces), pair.first.get(head, -1), pair.end.get(head[-1:], -1))
        else:
            signature = _NO_SIGNATURE
        split = pair.subsets.get(signature)
        literals, tries, positions = split if split is not None else pair.tries(signature)
        # the first candidate, in catalog order, whose literal occurs and whose pattern matches:
        # the literal tests run in C (compress and map are lazy: they stop where the loop does)
        for i in compress(positions, map(contains, repeat(message), literals)):
            regex, rec = tries[i]
            m = regex.search(message)
            if m is not None:
                return Match(rec, None, record.family, message, m)
        if record.level:
            return self._unexplained(record)
        return None

    def _unexplained(self, record: LogRecord) -> Match | None:
        """The catch-all match of a leveled line no entry claimed (None for Info/Debug lines)."""
        rec = self.catch_all.get((record.family, record.level))
        if rec is None:
            return None
        message = record.message
        groups: dict[str, str | None] = {"text": message}
        m = rec.regex.match(message)
        if m is not None:
            groups = m.groupdict()
            text = groups.get("text") or ""
            if record.family == "postfix" and not groups.get("client_ip"):
                c = _CA_NAMADDR.search(text)
                if c is not None:
                    groups.update(c.groupdict())
            elif record.family == "dovecot":
                arg = groups.pop("arg", None)
                if arg and groups.get("proc") in _MAIL_PROCS and not arg.isdigit():
                    groups["user"] = arg
                a = _CA_AUTHUSER.search(text)
                if a is not None:
                    groups.update(a.groupdict())
        return Match(rec, groups, record.family, message)


_default: Engine | None = None


def default_engine() -> Engine:
    """The engine over the built-in and user catalogs, loaded once.

    A bad user catalog file is skipped; its reason is in ``problems`` for the caller to show.
    """
    global _default
    if _default is None:
        from mailtui.recognizers.loader import load_catalog

        problems: list[str] = []
        engine = Engine(load_catalog(problems=problems))
        engine.problems = problems
        _default = engine
    return _default
