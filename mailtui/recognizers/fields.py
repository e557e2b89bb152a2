"""Fields every line of a family carries (``from=<…>``, ``rip=…``), extracted after a match.

A recognizer's own named groups are more specific and win over these. Names are the
canonical ones: client_ip, client_host, user, helo, sender, recipient, queue_id,
session, dsn, relay, jail.
"""

from __future__ import annotations

import re

_POSTFIX_KV = re.compile(
    r"\b(from|to|orig_to|helo|relay|dsn|status|sasl_username|sasl_method|proto)=(<[^>]*>|[^,;\s]*)"
)
_POSTFIX_NAMES = {"from": "sender", "to": "recipient", "sasl_username": "user"}
_POSTFIX_QID = re.compile(
    r"(?:(?:warning|error|fatal): )?(NOQUEUE|[0-9A-F]{6,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}): "
)
# the client in "... from host[ip]", "client=host[ip]" and postscreen's "from [ip]:port"
_POSTFIX_CLIENT = re.compile(
    r"(?:\bfrom |\bclient=)([^\s\[\]]*)\[([^\]\s]+)\](?::\d+)?|(?:^|\s)()\[([0-9A-Fa-f:.]+)\]:\d+"
)
_POSTFIX_REPLY = re.compile(r": [245]\d\d ([245]\.\d{1,3}\.\d{1,3}) ")
_DOVECOT_KV = re.compile(r"\b(user|rip|lip|method|session)=(<[^>]*>|[^,\s]*)")
_DOVECOT_NAMES = {"rip": "client_ip", "lip": "local_ip"}
_DOVECOT_MAILPROC = re.compile(r"[\w-]+\((?P<user>[^)]*)\)<\d+><(?P<session>[^>]*)>")
_F2B_JAIL = re.compile(r"\[(?P<jail>[^\]\s]+)\] ")


def _strip(value: str) -> str:
    return value[1:-1] if value.startswith("<") and value.endswith(">") else value


def common_fields(family: str, message: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if family == "postfix":
        m = _POSTFIX_QID.match(message)
        if m is not None:
            out["queue_id"] = m.group(1)
        c = _POSTFIX_CLIENT.search(message)
        if c is not None:
            host, ip = (c.group(1), c.group(2)) if c.group(2) else (c.group(3), c.group(4))
            if host:
                out["client_host"] = host
            out["client_ip"] = ip
        r = _POSTFIX_REPLY.search(message)
        if r is not None:
            out["dsn"] = r.group(1)
        for key, value in _POSTFIX_KV.findall(message):
            out.setdefault(_POSTFIX_NAMES.get(key, key), _strip(value))
    elif family == "dovecot":
        m = _DOVECOT_MAILPROC.match(message)
        if m is not None:
            out["user"], out["session"] = m.group("user"), m.group("session")
        for key, value in _DOVECOT_KV.findall(message):
            value = _strip(value)
            if value:
                out.setdefault(_DOVECOT_NAMES.get(key, key), value)
    elif family == "fail2ban":
        m = _F2B_JAIL.match(message)
        if m is not None:
            out["jail"] = m.group("jail")
    return out


_DIGITS = "0123456789"
_LONGEST_KEY = max(len(k) for k in _POSTFIX_KV.pattern.split("(", 1)[1].split(")", 1)[0].split("|"))


def who(family: str, message: str, groups: dict[str, str | None]) -> tuple[str | None, str | None, str | None]:
    """(client_ip, user, sender) of ``match_fields(family, message, groups)`` (None: no such
    field), without making the other fields: a scan counts who is involved in every problem
    line, and reads nothing else of most of them."""
    client = user = sender = None
    for key, value in groups.items():
        if value is not None:  # the pattern's own groups win; the last of user, user2, ... counts
            name = key.rstrip(_DIGITS) or key
            if name == "client_ip":
                client = value
            elif name == "user":
                user = value
            elif name == "sender":
                sender = value
    return _with_common(family, message, client, user, sender)


#: per compiled pattern (by id; the pattern is kept, so the id is not reused): its groups named
#: client_ip, user or sender (or those with digits after), as (group number, which), in order
_WHO_GROUPS: dict[int, tuple[re.Pattern[str], tuple[tuple[int, int], ...]]] = {}
_WHO_BASES = {"client_ip": 0, "user": 1, "sender": 2}


def who_of_match(family: str, message: str, m: re.Match[str]) -> tuple[str | None, str | None, str | None]:
    """``who(family, message, m.groupdict())`` without making the dict: only the groups that
    can name who is involved are read (groupdict lists groupindex's names in its order)."""
    regex = m.re
    known = _WHO_GROUPS.get(id(regex))
    if known is None or known[0] is not regex:
        plan = tuple(
            (index, _WHO_BASES[base])
            for name, index in regex.groupindex.items()
            if (base := name.rstrip(_DIGITS) or name) in _WHO_BASES
        )
        known = _WHO_GROUPS[id(regex)] = (regex, plan)
    found: list[str | None] = [None, None, None]
    for index, which in known[1]:
        value = m.group(index)
        if value is not None:  # the last of user, user2, ... counts, as in who()
            found[which] = value
    return _with_common(family, message, found[0], found[1], found[2])


def _with_common(
    family: str, message: str, client: str | None, user: str | None, sender: str | None
) -> tuple[str | None, str | None, str | None]:
    """The pattern's own who-fields, the message's common ones where it has none."""
    if (client is None or user is None or sender is None) and message:
        common = _common_who(family, message, client is None, user is None, sender is None)
        client = common[0] if client is None else client
        user = common[1] if user is None else user
        sender = common[2] if sender is None else sender
    return client, user, sender


def _common_who(
    family: str, message: str, need_client: bool = True, need_user: bool = True, need_sender: bool = True
) -> tuple[str | None, str | None, str | None]:
    """(client_ip, user, sender) of ``common_fields(family, message)``: the same regexes, the
    same first-one-wins. A field not needed (the pattern has it) is not looked for: what is
    given for it means nothing."""
    client = user = sender = None
    if family == "postfix":
        # the searches start where a match can first start (search/findall from a position see
        # the characters before it for \b and ^, so they find what a search of it all finds):
        # a client at "from ", "client=" or one before a "[" ...
        bracket = message.find("[") if need_client else -1
        if bracket >= 0:
            starts = [i for i in (message.find("from "), message.find("client="), max(bracket - 1, 0)) if i >= 0]
            c = _POSTFIX_CLIENT.search(message, min(starts, default=0))
            if c is not None:
                client = c.group(2) or c.group(4)
        # ... and a key=value pair at most len("sasl_username") before the first "="; the
        # pairs come in findall's order, and the scan stops once the first "from" and the first
        # "sasl_username" are found, or the one still missing is nowhere in the message (a
        # reject line's sender is its first pair: the rest of the line is not scanned)
        want_sender = need_sender and "from=" in message
        want_user = need_user and "sasl_username=" in message
        if want_sender or want_user:
            for kv in _POSTFIX_KV.finditer(message, max(message.find("=") - _LONGEST_KEY, 0)):
                key = kv.group(1)
                if key == "from":
                    if want_sender:
                        sender, want_sender = _strip(kv.group(2)), False
                elif key == "sasl_username" and want_user:
                    user, want_user = _strip(kv.group(2)), False
                else:
                    continue
                if not (want_sender or want_user):
                    break
    elif family == "dovecot" and (need_client or need_user):
        if need_user:
            m = _DOVECOT_MAILPROC.match(message)
            if m is not None:
                user = m.group("user")
        for key, value in _DOVECOT_KV.findall(message) if need_client or user is None else ():
            if key in ("user", "rip"):
                value = _strip(value)
                if value:
                    if key == "user":
                        user = value if user is None else user
                    elif client is None:
                        client = value
    return client, user, sender
