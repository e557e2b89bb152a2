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
from mailtui.recognizers.pattern import Regex

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
MAX_SUBSETS = 4096  # subsets of a pair's candidates kept, per pair (a message's keys pick one)


@dataclass
class _Pair:
    """A (family, daemon) pair's candidates, indexed by a word each literal contains.

    A literal with a word between two spaces (``"NOQUEUE: reject: "``'s ``reject:``) can only
    occur in a message whose ``split(" ")`` has that word: the spaces around it are in the
    message too. So each such literal is keyed by its longest such word; a message's words
    pick the keyed literals that may occur, and those with no such word are always tried.
    The candidates tried keep catalog order (first match wins), only fewer literal tests run."""

    candidates: tuple[Candidate, ...]
    keys: frozenset[str]  # every key word
    by_key: dict[str, tuple[int, ...]]  # key word -> the positions of the literals it keys
    unkeyed: frozenset[int]  # the positions of the literals without a key word
    subsets: dict[frozenset[str], _Tries] = field(default_factory=dict)

    @classmethod
    def of(cls, candidates: tuple[Candidate, ...]) -> _Pair:
        by_key: dict[str, list[int]] = {}
        unkeyed = []
        for i, (literal, _, _) in enumerate(candidates):
            words = [w for w in literal.split(" ")[1:-1] if w]
            if words:
                by_key.setdefault(max(words, key=len), []).append(i)
            else:
                unkeyed.append(i)
        return cls(candidates, frozenset(by_key), {k: tuple(v) for k, v in by_key.items()}, frozenset(unkeyed))

    def tries(self, present: frozenset[str]) -> _Tries:
        """The candidates a message whose key words are ``present`` may match, in catalog order."""
        chosen = [self.candidates[i] for i in sorted(self.unkeyed.union(*(self.by_key[k] for k in present)))]
        tries = (
            tuple(literal for literal, _, _ in chosen),
            tuple((regex, rec) for _, regex, rec in chosen),
            range(len(chosen)),
        )
        if len(self.subsets) < MAX_SUBSETS:
            self.subsets[present] = tries
        return tries


_NO_KEYS: frozenset[str] = frozenset()


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
        present = pair.keys.intersection(message.split(" ")) if pair.keys else _NO_KEYS
        split = pair.subsets.get(present)
        literals, tries, positions = split if split is not None else pair.tries(present)
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
