"""What changed since the last check: for cron (``mailtui check --diff LAST.json``) and the DNS pane.

The DNS pane keeps each domain's last finished check in ``$XDG_STATE_HOME/mailtui/dns/<domain>.json``
(``~/.local/state`` by default: state, not configuration) and marks what changed against it
(``marks()``, in the order of the current findings).

Two reports (``mailtui check --json``) are compared finding by finding. A finding is "the same"
across runs when its id and the names it is about (the host, target, zone or port in its data)
agree; several with the same key are paired in order. Reported: what appeared, what went away,
and what changed status or wording. An unchanged domain prints nothing, so cron mails nothing.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailtui.core.files import read_capped
from mailtui.core.xdg import xdg_base

#: data fields that say what a finding is about (not what it found)
SUBJECT_FIELDS = ("host", "target", "zone", "port", "service", "selector", "name", "url", "mx")
MAX_REPORT = 16 << 20


class DiffError(Exception):
    """The previous report cannot be read; one line for the user."""


@dataclass
class Change:
    kind: str  # new | gone | changed
    id: str
    status: str
    summary: str
    before_status: str = ""
    before_summary: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v != "" or k in ("kind", "id", "status", "summary")}

    def line(self) -> str:
        if self.kind == "changed":
            if self.status != self.before_status:
                return f"~ {self.id}: {self.before_status} -> {self.status}: {self.summary}"
            return f"~ {self.id}: {self.summary} (was: {self.before_summary})"
        return f"{'+' if self.kind == 'new' else '-'} {self.id}: {self.status}: {self.summary}"


@dataclass
class CheckDiff:
    domain: str
    changes: list[Change] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"domain": self.domain, "changes": [c.to_dict() for c in self.changes]}


def load_previous(path: str) -> dict[str, Any]:
    try:
        raw = read_capped(path, MAX_REPORT + 1)
    except FileNotFoundError:
        return {}  # the first run: everything is new
    except OSError as exc:
        raise DiffError(f"{path}: {exc.strerror}") from None
    if len(raw) > MAX_REPORT:
        raise DiffError(f"{path}: larger than {MAX_REPORT >> 20} MiB: not a check report")
    try:
        data = json.loads(raw)
    except ValueError:
        raise DiffError(f"{path}: not a JSON check report (write one with mailtui check --json)") from None
    if not isinstance(data, dict) or not isinstance(data.get("checks"), list):
        raise DiffError(f'{path}: not a check report (no "checks" list)')
    return data


def _key(finding: dict[str, Any]) -> tuple[str, ...]:
    raw = finding.get("data")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    subject = tuple(f"{k}={data[k]}" for k in SUBJECT_FIELDS if k in data and isinstance(data[k], (str, int)))
    return (str(finding.get("id", "")), *subject)


def _group(findings: list[Any]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    out: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for f in findings:
        if isinstance(f, dict):
            out.setdefault(_key(f), []).append(f)
    return out


def diff(previous: dict[str, Any], current: dict[str, Any]) -> CheckDiff:
    result = CheckDiff(str(current.get("domain", "")))
    before = _group(previous.get("checks", []) if previous else [])
    after = _group(current.get("checks", []))
    for key, now in after.items():
        then = before.get(key, [])
        for i, f in enumerate(now):
            status, summary = str(f.get("status", "")), str(f.get("summary", ""))
            if i >= len(then):
                result.changes.append(Change("new", key[0], status, summary))
                continue
            old = then[i]
            old_status, old_summary = str(old.get("status", "")), str(old.get("summary", ""))
            if (status, summary) != (old_status, old_summary):
                result.changes.append(Change("changed", key[0], status, summary, old_status, old_summary))
        for old in then[len(now) :]:
            result.changes.append(Change("gone", key[0], str(old.get("status", "")), str(old.get("summary", ""))))
    for key, then in before.items():
        if key not in after:
            for old in then:
                result.changes.append(Change("gone", key[0], str(old.get("status", "")), str(old.get("summary", ""))))
    return result


def save(path: str, report: dict[str, Any]) -> None:
    """Write the report for the next run atomically (a cron run killed mid-write leaves the old one)."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(target)


def state_file(domain: str, state_home: str | None = None) -> Path:
    """Where the DNS pane keeps ``domain``'s last check (the name is checked by the pane before)."""
    # (no home: a path that cannot be read or written, as the config's user layer)
    home = Path(state_home) if state_home else xdg_base("XDG_STATE_HOME", ".local/state") or Path("/nonexistent")
    name = domain.strip().rstrip(".").lower().replace("/", "_") or "_"
    return home / "mailtui" / "dns" / f"{name}.json"


def marks(previous: dict[str, Any], current: list[dict[str, Any]]) -> list[Change | None]:
    """For each current finding (in the given order): its Change since ``previous`` (new, or changed
    status or wording), or None when it is the same; paired as ``diff()`` pairs them."""
    before = _group(previous.get("checks", []) if previous else [])
    seen: dict[tuple[str, ...], int] = {}
    out: list[Change | None] = []
    for f in current:
        key = _key(f)
        i = seen[key] = seen.get(key, -1) + 1
        then = before.get(key, [])
        status, summary = str(f.get("status", "")), str(f.get("summary", ""))
        if i >= len(then):
            out.append(Change("new", key[0], status, summary))
            continue
        old_status, old_summary = str(then[i].get("status", "")), str(then[i].get("summary", ""))
        same = (status, summary) == (old_status, old_summary)
        out.append(None if same else Change("changed", key[0], status, summary, old_status, old_summary))
    return out


def save_state(path: Path, report: dict[str, Any]) -> None:
    """The pane's copy of a finished check, with when it was taken (the next run says "since ...")."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    save(str(path), {**report, "saved": time.time()})
