"""Load and validate recognizer catalogs: the built-in one shipped in the package, then the user's.

A catalog is a TOML file with ``[[recognizer]]`` tables and an optional ``[macros]``
table. ``@NAME@`` in a pattern expands to a macro (the built-in macros are below; a
file's own macros add to them). A user file in ``~/.config/mailtui/recognizers/`` may
add recognizers or replace a built-in one by reusing its id. Every problem is reported
as ``file: recognizer 'id': what is wrong``.

A user file is held to more than the built-in one, because it was not reviewed: its
patterns must not backtrack catastrophically (recognizers/redos.py), each sample must be
matched by its own pattern, and an id may appear only once across the user's files. A bad
user file is skipped as a whole and reported once (``problems``); the built-in catalog
keeps working. An invalid built-in catalog is a bug and raises (a built-in pattern that does not
compile: at its first use, see recognizers/pattern.py; tests/test_lazy_pattern.py compiles each).
"""

from __future__ import annotations

import re
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from mailtui.config import user_config_dir
from mailtui.core.files import read_capped
from mailtui.core.jsoncache import cached
from mailtui.recognizers.model import SEVERITIES, WEAKENS, Recognizer, Setting
from mailtui.recognizers.pattern import LazyPattern, Regex

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class CatalogError(Exception):
    """A catalog file is invalid; the message names the file and the entry."""


BUILTIN_MACROS = {
    # Postfix's namaddr: host[ip], with an optional :port (postscreen, some smtpd warnings)
    "CLIENT": r"(?<![^\s\[\]=])(?P<client_host>[^\s\[\]]*)\[(?P<client_ip>[^\]\s]*)\](?::\d+)?",
    # \b and ^ below keep unanchored searches linear: a long run of letters is scanned from
    # its start only, not again from each of its characters
    "QID": r"\b(?P<queue_id>NOQUEUE|[0-9A-Za-z]{6,})",
    # "<QID>: reject: RCPT from host[ip]: 550 5.1.1 "
    "REJECT": r"^(?P<queue_id>NOQUEUE|[0-9A-Za-z]{6,}): (?P<action>reject|reject_warning|defer): "
    r"(?P<stage>[A-Z]+) from (?P<client_host>[^\s\[\]]*)\[(?P<client_ip>[^\]\s]*)\]"
    r"(?::\d+)?: (?P<code>\d{3}) (?P<dsn>\d\.\d{1,3}\.\d{1,3}) ",
    # the same for temporary (4xx) replies only
    "REJECT4": r"^(?P<queue_id>NOQUEUE|[0-9A-Za-z]{6,}): (?P<action>reject|defer): "
    r"(?P<stage>[A-Z]+) from (?P<client_host>[^\s\[\]]*)\[(?P<client_ip>[^\]\s]*)\]"
    r"(?::\d+)?: (?P<code>4\d\d) (?P<dsn>\d\.\d{1,3}\.\d{1,3}) ",
    "EMAIL": r"[^<>\s]*",
    "DOVELOGIN": r"(?P<protocol>imap|pop3|submission|managesieve|lmtp)-login",
}

REQUIRED = ("id", "family", "match", "pattern", "severity", "title", "summary", "cause", "fix", "samples")
OPTIONAL = ("daemons", "settings", "server_fix", "weakens_security", "restrictions")
_ID = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_TOML_KIND = "toml-v1"  # (a new parser or another mapping of TOML to data: a new name)
_MACRO = re.compile(r"@([A-Z][A-Z0-9_]*)@")


def expand(pattern: str, macros: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in macros:
            raise KeyError(name)
        return macros[name]

    return _MACRO.sub(sub, pattern)


MAX_PATTERN_CHARS = 10_000
MAX_USER_FILE_BYTES = 1 << 20
MAX_USER_FILES = 200


def _entry(raw: Any, macros: dict[str, str], origin: str, user: bool = False, lazy: bool = False) -> Recognizer:
    if not isinstance(raw, dict):
        raise CatalogError(f"{origin}: each recognizer must be a [[recognizer]] table, got {type(raw).__name__}")
    ident = raw.get("id", "?")
    where = f"{origin}: recognizer {ident!r}"
    missing = [k for k in REQUIRED if k not in raw]
    if missing:
        raise CatalogError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(set(raw) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {', '.join(unknown)}")
    for key in REQUIRED + OPTIONAL:
        value = raw.get(key)
        if key in ("daemons", "settings", "samples", "restrictions"):
            if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise CatalogError(f"{where}: {key} must be a list of strings")
        elif value is not None and not isinstance(value, str):
            raise CatalogError(f"{where}: {key} must be a string")
    if not _ID.fullmatch(ident):
        raise CatalogError(f"{where}: id must be lower-case letters, digits, '.', '_' or '-'")
    if raw["severity"] not in SEVERITIES:
        raise CatalogError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
    weakens = raw.get("weakens_security", "no")
    if weakens not in WEAKENS:
        raise CatalogError(f"{where}: weakens_security must be one of {', '.join(WEAKENS)}")
    if not raw["match"]:
        raise CatalogError(f"{where}: match must not be empty")
    try:
        source = expand(raw["pattern"], macros)
    except KeyError as exc:
        raise CatalogError(f"{where}: unknown macro @{exc.args[0]}@") from None
    if len(source) > MAX_PATTERN_CHARS:
        raise CatalogError(f"{where}: pattern is longer than {MAX_PATTERN_CHARS:,} characters")
    # the built-in catalog's patterns are compiled on first use (recognizers/pattern.py)
    regex: Regex = LazyPattern(source, where) if lazy else _compile(source, where)
    if user:
        from mailtui.recognizers.redos import structural_problem

        problem = structural_problem(source)
        if problem:
            raise CatalogError(f"{where}: refused: the pattern can backtrack catastrophically: {problem}")
    try:
        settings = tuple(Setting.parse(s) for s in raw.get("settings", []))
    except ValueError as exc:
        raise CatalogError(f"{where}: {exc}") from None
    if not raw["samples"]:
        raise CatalogError(f"{where}: give at least one sample line")
    return Recognizer(
        id=ident,
        family=raw["family"],
        match=raw["match"],
        regex=regex,
        severity=raw["severity"],
        title=raw["title"],
        summary=raw["summary"].strip(),
        cause=raw["cause"].strip(),
        fix=raw["fix"].strip(),
        daemons=frozenset(raw.get("daemons", [])),
        settings=settings,
        server_fix=raw.get("server_fix", "").strip(),
        weakens_security=weakens,
        samples=tuple(raw["samples"]),
        origin=origin,
        restrictions=tuple(raw.get("restrictions", [])),
    )


def _compile(source: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(source)
    except re.error as exc:
        raise CatalogError(f"{where}: pattern does not compile: {exc}") from None
    except OverflowError as exc:  # a{4294967296}
        raise CatalogError(f"{where}: pattern does not compile: {exc}") from None
    except RecursionError:  # thousands of nested groups
        raise CatalogError(f"{where}: pattern does not compile: nested too deeply") from None


def parse_catalog(text: str, origin: str, user: bool = False, lazy: bool = False) -> list[Recognizer]:
    """The recognizers of one catalog file; ``lazy``: patterns compiled on first use (only for
    the built-in catalog, whose every pattern tests/test_lazy_pattern.py compiles)."""
    try:
        # (parsed once per text: the 13 built-in files cost ~50 ms of pure-Python TOML a start)
        data = cached(_TOML_KIND, text, lambda: tomllib.loads(text), lambda v: isinstance(v, dict))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{origin}: invalid TOML: {exc}") from None
    except RecursionError:
        raise CatalogError(f"{origin}: invalid TOML: nested too deeply") from None
    unknown = sorted(set(data) - {"recognizer", "macros"})
    if unknown:
        raise CatalogError(f"{origin}: unknown top-level key(s) {', '.join(unknown)}")
    macros = dict(BUILTIN_MACROS)
    file_macros = data.get("macros", {})
    if not isinstance(file_macros, dict) or not all(isinstance(v, str) for v in file_macros.values()):
        raise CatalogError(f"{origin}: [macros] must map names to strings")
    macros.update(file_macros)
    entries = data.get("recognizer", [])
    if not isinstance(entries, list):
        raise CatalogError(f"{origin}: use [[recognizer]] tables")
    return [_entry(raw, macros, origin, user, lazy) for raw in entries]


def builtin_catalog_files() -> list[tuple[str, str]]:
    folder = resources.files("mailtui.recognizers") / "catalog"
    return sorted(
        (f"catalog/{p.name}", p.read_text(encoding="utf-8")) for p in folder.iterdir() if p.name.endswith(".toml")
    )


def user_catalog_dir() -> Path:
    return user_config_dir() / "recognizers"


def load_catalog(
    user_dir: Path | None = None, include_user: bool = True, problems: list[str] | None = None
) -> list[Recognizer]:
    """Built-in recognizers, then the user's (same id replaces).

    With ``problems`` (a list), each bad user file is skipped and its problem appended;
    without it the first problem raises CatalogError. A bad built-in catalog always raises.
    """
    by_id: dict[str, Recognizer] = {}
    for origin, text in builtin_catalog_files():
        for rec in parse_catalog(text, origin, lazy=True):
            if rec.id in by_id:
                raise CatalogError(f"{origin}: recognizer {rec.id!r}: duplicate id (also in {by_id[rec.id].origin})")
            by_id[rec.id] = rec
    if include_user:
        found: list[str] = []
        for recs in _user_files(user_dir if user_dir is not None else user_catalog_dir(), found):
            for rec in recs:
                by_id[rec.id] = rec
        if found:
            if problems is None:
                raise CatalogError(found[0])
            problems.extend(found)
    return list(by_id.values())


def _user_files(folder: Path, problems: list[str]) -> list[list[Recognizer]]:
    """Every valid user file's recognizers; the invalid ones' reasons go to ``problems``."""
    try:
        if not folder.is_dir():
            return []
        paths = sorted(folder.glob("*.toml"))
    except OSError as exc:
        problems.append(f"{folder}: cannot be read ({exc.strerror or exc}): user recognizers skipped")
        return []
    if len(paths) > MAX_USER_FILES:
        problems.append(f"{folder}: more than {MAX_USER_FILES} catalog files: only the first {MAX_USER_FILES} are read")
        paths = paths[:MAX_USER_FILES]
    files: list[tuple[Path, list[Recognizer]]] = []
    for path in paths:
        try:
            files.append((path, parse_catalog(_read_user_file(path), str(path), user=True)))
        except CatalogError as exc:
            problems.append(f"{exc}; file skipped")
    # the expensive check last, for every user pattern at once: one child process
    from mailtui.recognizers.redos import probe_isolated

    verdicts = iter(probe_isolated([(r.regex.pattern, r.match) for _, recs in files for r in recs]))
    seen: dict[str, str] = {}
    good: list[list[Recognizer]] = []
    for path, recs in files:
        problem = ""
        here: set[str] = set()
        for rec in recs:
            verdict = next(verdicts)
            where = f"{path}: recognizer {rec.id!r}"
            if problem:
                continue
            if verdict:
                problem = f"{where}: refused: the pattern can backtrack catastrophically: {verdict}"
            elif rec.id in seen or rec.id in here:
                problem = f"{where}: duplicate id (also in {seen.get(rec.id, 'this file')})"
            else:
                problem = _sample_problem(rec, where)
            here.add(rec.id)
        if problem:
            problems.append(f"{problem}; file skipped")
            continue
        for rec in recs:
            seen[rec.id] = str(path)
        good.append(recs)
    return good


def _read_user_file(path: Path) -> str:
    try:
        data = read_capped(path, MAX_USER_FILE_BYTES + 1)  # never blocked by a FIFO
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_USER_FILE_BYTES:
        raise CatalogError(f"{path}: larger than {MAX_USER_FILE_BYTES // 1024} KiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


def _sample_problem(rec: Recognizer, where: str) -> str:
    """A sample its own entry would not recognize: the README promises such a file is refused."""
    from mailtui.logs.envelope import EnvelopeParser

    parser = EnvelopeParser(source="sample")
    for n, sample in enumerate(rec.samples, 1):
        message = parser.parse(sample).message
        if rec.match not in message:
            return f"{where}: sample {n} does not contain the match text {rec.match!r}"
        if rec.regex.search(message) is None:
            return f"{where}: sample {n} is not matched by the pattern (message {message[:80]!r})"
    return ""
