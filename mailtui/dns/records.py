"""Parsers for the TXT records and policies the checks read: SPF, DMARC, DKIM, MTA-STS, TLS-RPT.

Written here rather than taken from checkdmarc or pyspf because both resolve names
themselves (checkdmarc fetches MTA-STS with requests and system DNS; pyspf has its own DNS
layer), which would bypass the one resolver the checks must use. These functions only
parse; the lookups they imply (SPF includes, DMARC report authorization) are done by the
checks through that resolver. Every parser takes attacker-controlled text and never raises
on bad input: it returns what it understood plus a list of problems.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

from mailtui.core.numbers import ascii_int

SPF_MECHANISMS = {"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"}
SPF_LOOKUP_TERMS = {"include", "a", "mx", "ptr", "exists", "redirect"}


@dataclass
class SpfTerm:
    qualifier: str  # + - ~ ?
    name: str  # mechanism or modifier name
    value: str
    modifier: bool = False


@dataclass
class SpfRecord:
    terms: list[SpfTerm] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def lookups(self) -> int:
        """Terms that cost a DNS lookup in this record (not counting what includes add)."""
        return sum(1 for t in self.terms if t.name in SPF_LOOKUP_TERMS)

    def all_term(self) -> SpfTerm | None:
        return next((t for t in self.terms if t.name == "all"), None)

    def targets(self, name: str) -> list[str]:
        return [t.value for t in self.terms if t.name == name and t.value]


def is_spf(text: str) -> bool:
    return text.lower() == "v=spf1" or text.lower().startswith("v=spf1 ")


def parse_spf(text: str) -> SpfRecord:
    rec = SpfRecord()
    parts = text.split()
    if not parts or parts[0].lower() != "v=spf1":
        rec.errors.append("does not start with v=spf1")
        return rec
    seen_modifiers: set[str] = set()
    after_all = False
    for word in parts[1:]:
        m = re.fullmatch(r"([a-zA-Z][a-zA-Z0-9_.-]*)=(.*)", word)
        if m is not None:
            name = m.group(1).lower()
            if name in ("redirect", "exp"):
                if name in seen_modifiers:
                    rec.errors.append(f"{name}= appears more than once")
                seen_modifiers.add(name)
            rec.terms.append(SpfTerm("", name, m.group(2), modifier=True))
            continue
        qualifier = word[0] if word[0] in "+-~?" else "+"
        body = word[1:] if word[0] in "+-~?" else word
        m = re.fullmatch(r"([a-zA-Z0-9]+)([:/].*)?", body)
        if m is None:
            rec.errors.append(f"malformed term {word!r}")
            continue
        name, rest = m.group(1).lower(), m.group(2) or ""
        value = rest[1:] if rest.startswith(":") else ""  # "mx/24" has a prefix length, no target
        if name in ("a", "mx"):
            value = value.split("/", 1)[0]
        if name not in SPF_MECHANISMS:
            rec.errors.append(f"unknown mechanism {word!r}")
            continue
        if name in ("ip4", "ip6", "include", "exists") and not value:
            rec.errors.append(f"{name} needs a value")
        if after_all:
            rec.warnings.append(f"{word!r} comes after 'all' and is never evaluated")
        if name == "all":
            after_all = True
            if qualifier in "+?":
                rec.warnings.append(f"'{qualifier}all' lets anyone send as this domain")
        if name == "ptr":
            rec.warnings.append("the ptr mechanism is slow and should not be used (RFC 7208 §5.5)")
        rec.terms.append(SpfTerm(qualifier, name, value))
    if "redirect" in seen_modifiers and rec.all_term() is not None:
        rec.warnings.append("redirect= is ignored because the record has an 'all' mechanism")
    return rec


def parse_tags(text: str) -> tuple[dict[str, str], list[str]]:
    """``tag=value; tag=value`` (DMARC, DKIM, MTA-STS, TLS-RPT). Later duplicates are errors."""
    tags: dict[str, str] = {}
    errors: list[str] = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        name, eq, value = part.partition("=")
        name = name.strip().lower()
        if not eq or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            errors.append(f"malformed tag {part[:40]!r}")
            continue
        if name in tags:
            errors.append(f"tag {name} appears twice")
            continue
        tags[name] = value.strip()
    return tags, errors


DMARC_POLICIES = {"none", "quarantine", "reject"}


@dataclass
class DmarcRecord:
    tags: dict[str, str]
    errors: list[str]
    warnings: list[str]

    def report_uris(self) -> list[str]:
        return [u.strip() for key in ("rua", "ruf") for u in self.tags.get(key, "").split(",") if u.strip()]


def parse_dmarc(text: str) -> DmarcRecord:
    tags, errors = parse_tags(text)
    warnings: list[str] = []
    if not re.match(r"\s*v\s*=\s*DMARC1\s*(;|$)", text):
        errors.append("v=DMARC1 must be the first tag")
    policy = tags.get("p", "")
    if not policy:
        errors.append("p= (the policy) is missing")
    elif policy.lower() not in DMARC_POLICIES:
        errors.append(f"p={policy} is not none, quarantine or reject")
    elif policy.lower() == "none":
        warnings.append("p=none only monitors: receivers do not act on failures")
    if tags.get("sp") and tags["sp"].lower() not in DMARC_POLICIES:
        errors.append(f"sp={tags['sp']} is not none, quarantine or reject")
    for key in ("adkim", "aspf"):
        if key in tags and tags[key].lower() not in ("r", "s"):
            errors.append(f"{key}={tags[key]} must be r or s")
    if "pct" in tags:
        pct = ascii_int(tags["pct"], max_digits=3)
        if pct is None or not 0 <= pct <= 100:
            errors.append(f"pct={tags['pct'][:40]} must be 0-100")
        elif pct < 100:
            warnings.append(f"pct={tags['pct']}: the policy applies to part of the mail only")
    for uri in DmarcRecord(tags, [], []).report_uris():
        if not uri.lower().startswith("mailto:"):
            errors.append(f"report URI {uri[:60]!r} is not a mailto: URI")
    if "rua" not in tags:
        warnings.append("no rua=: you receive no aggregate reports")
    return DmarcRecord(tags, errors, warnings)


def mailto_domain(uri: str) -> str:
    """The domain of ``mailto:dmarc@example.org!10m``."""
    address = uri.split(":", 1)[-1].split("!", 1)[0]
    return address.rpartition("@")[2].strip().rstrip(".").lower()


@dataclass
class DkimKey:
    tags: dict[str, str]
    errors: list[str]
    warnings: list[str]
    key_type: str = "rsa"
    bits: int | None = None
    revoked: bool = False


def parse_dkim(text: str) -> DkimKey:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    tags, errors = parse_tags(text)
    warnings: list[str] = []
    if "v" in tags and (tags["v"] != "DKIM1" or not text.strip().lower().startswith("v")):
        errors.append("v= must be DKIM1 and come first")
    key = DkimKey(tags, errors, warnings, tags.get("k", "rsa").lower())
    if "p" not in tags:
        errors.append("p= (the public key) is missing")
        return key
    p = re.sub(r"\s+", "", tags["p"])
    if not p:
        key.revoked = True
        warnings.append("p= is empty: this key is revoked")
        return key
    if "y" in tags.get("t", "").split(":"):
        warnings.append("t=y: the domain is testing DKIM; verifiers may ignore failures")
    try:
        der = base64.b64decode(p, validate=True)
    except ValueError:
        errors.append("p= is not valid base64")
        return key
    if key.key_type == "ed25519":
        key.bits = 256 if len(der) == 32 else None
        if key.bits is None:
            errors.append("an ed25519 key must be 32 bytes")
        return key
    try:
        public = load_der_public_key(der)
        key.bits = getattr(public, "key_size", None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        errors.append("p= does not hold a public key")
        return key
    if key.bits is not None and key.bits < 1024:
        errors.append(f"RSA key of {key.bits} bits: RFC 8301 requires at least 1024")
    elif key.bits is not None and key.bits < 2048:
        warnings.append(f"RSA key of {key.bits} bits: 2048 is recommended")
    return key


@dataclass
class StsPolicy:
    mode: str = ""
    mx: list[str] = field(default_factory=list)
    max_age: int | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def parse_sts_policy(body: str) -> StsPolicy:
    pol = StsPolicy()
    fields: dict[str, str] = {}
    for line in body.splitlines():
        line = line.strip()
        if not line:
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if not sep:
            pol.errors.append(f"line {line[:40]!r} is not 'key: value'")
            continue
        if key == "mx":
            pol.mx.append(value.lower().rstrip("."))
        elif key in fields:
            pol.errors.append(f"{key} appears twice")
        else:
            fields[key] = value
    if fields.get("version") != "STSv1":
        pol.errors.append("version: STSv1 is missing")
    pol.mode = fields.get("mode", "").lower()
    if pol.mode not in ("enforce", "testing", "none"):
        pol.errors.append(f"mode {pol.mode or '(missing)'!r} is not enforce, testing or none")
    age = ascii_int(fields.get("max_age", ""))
    if age is None:
        pol.errors.append("max_age is missing or not a number")
    else:
        pol.max_age = age
        if pol.max_age > 31557600:
            pol.errors.append("max_age is above 31557600 (one year)")
        elif pol.max_age < 86400:
            pol.warnings.append(f"max_age {pol.max_age} s is short; a week or more is usual")
    if not pol.mx and pol.mode != "none":
        pol.errors.append("no mx: lines")
    return pol


def name_matches(host: str, pattern: str) -> bool:
    """A host against a name pattern: exact, or ``*.`` standing for exactly the left-most label.

    The rule of certificate names (RFC 6125) and of MTA-STS ``mx:`` lines (RFC 8461 §4.1).
    """
    host, pattern = host.lower().rstrip("."), pattern.lower().rstrip(".")
    if pattern.startswith("*."):
        label, _, rest = host.partition(".")
        return bool(label) and rest == pattern[2:]
    return host == pattern


sts_mx_matches = name_matches


def srv_order(records: list[tuple[int, int, int, str]]) -> list[tuple[int, int, int, str, float]]:
    """RFC 2782: lowest priority first; within a priority, each target's chance by weight.

    Returns (priority, weight, port, target, share of its priority group in percent), most
    likely first within each priority.
    """
    out = []
    for prio in sorted({r[0] for r in records}):
        group = [r for r in records if r[0] == prio]
        total = sum(r[1] for r in group)
        for r in sorted(group, key=lambda r: -r[1]):
            share = 100.0 * r[1] / total if total else 100.0 / len(group)
            out.append((r[0], r[1], r[2], r[3], round(share, 1)))
    return out
