"""core/jsoncache.py, the results kept between runs (the parsed catalog, the fast engine's pattern
translations): a value comes back as it was computed, a changed key computes anew, a damaged or
oversized file is computed again and replaced, an unusable directory only costs the time, what is
not JSON is not kept, and each kind keeps its newest files. Then the two users: a catalog read
back from the cache is the same engine, and an edited user catalog is parsed anew."""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

import pytest

from mailtui.core import jsoncache
from mailtui.recognizers.loader import load_catalog


def _any(value: object) -> bool:
    return True


def _counting(value: object) -> tuple[list[int], object]:
    calls: list[int] = []

    def compute() -> object:
        calls.append(1)
        return value

    return calls, compute  # type: ignore[return-value]


def _files(kind: str) -> list[Path]:
    folder = jsoncache.cache_dir()
    assert folder is not None
    return sorted((folder / kind).glob("*.json"))


def test_a_value_is_computed_once_per_key() -> None:
    calls, compute = _counting({"a": [1, 2.5, "x", None, True]})
    for _ in range(3):
        assert jsoncache.cached("t", "key one", compute, _any) == {"a": [1, 2.5, "x", None, True]}  # type: ignore[arg-type]
    assert len(calls) == 1
    assert jsoncache.cached("t", "key two", compute, _any) == {"a": [1, 2.5, "x", None, True]}  # type: ignore[arg-type]
    assert len(calls) == 2 and len(_files("t")) == 2


@pytest.mark.parametrize(
    "damage",
    [b"", b'{"value": [1, 2', b"\xff\xfe", b'{"other": 1}', b"[]", b"null", b'{"key": "another text", "value": [9]}'],
)
def test_a_damaged_file_is_computed_again_and_replaced(damage: bytes) -> None:
    calls, compute = _counting([1, 2, 3])
    jsoncache.cached("t", "k", compute, _any)  # type: ignore[arg-type]
    (path,) = _files("t")
    path.write_bytes(damage)
    assert jsoncache.cached("t", "k", compute, _any) == [1, 2, 3]  # type: ignore[arg-type]
    assert len(calls) == 2
    assert json.loads(path.read_bytes()) == {"key": "k", "value": [1, 2, 3]}


def test_an_oversized_file_is_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    calls, compute = _counting("x" * 1000)
    jsoncache.cached("t", "k", compute, _any)  # type: ignore[arg-type]
    monkeypatch.setattr(jsoncache, "MAX_BYTES", 100)
    assert jsoncache.cached("t", "k", compute, _any) == "x" * 1000  # type: ignore[arg-type]
    assert len(calls) == 2


def test_what_is_not_json_is_returned_and_not_kept() -> None:
    when = {"at": datetime.date(2026, 12, 3)}  # (TOML has dates; JSON does not)
    calls, compute = _counting(when)
    assert jsoncache.cached("t", "k", compute, _any) == when  # type: ignore[arg-type]
    assert jsoncache.cached("t", "k", compute, _any) == when  # type: ignore[arg-type]
    assert len(calls) == 2 and _files("t") == []


def test_an_unusable_cache_directory_only_costs_the_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    calls, compute = _counting([1])
    assert jsoncache.cached("t", "k", compute, _any) == [1]  # type: ignore[arg-type]
    assert jsoncache.cached("t", "k", compute, _any) == [1]  # type: ignore[arg-type]
    assert len(calls) == 2
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.delenv("HOME")
    monkeypatch.setattr(Path, "home", lambda: (_ for _ in ()).throw(RuntimeError("no home")))
    assert jsoncache.cache_dir() is None
    assert jsoncache.cached("t", "k", compute, _any) == [1]  # type: ignore[arg-type]


def test_each_kind_keeps_its_newest_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsoncache, "KEEP", 3)
    for i in range(6):
        jsoncache.cached("t", f"key {i}", lambda i=i: i, _any)  # type: ignore[misc]
        for n, path in enumerate(_files("t")):  # (distinct times whatever the clock's resolution)
            os.utime(path, (1_000_000 + n, 1_000_000 + n))
        newest = max(_files("t"), key=lambda p: p.stat().st_mtime)
        os.utime(newest, (2_000_000 + i, 2_000_000 + i))
    assert len(_files("t")) == 3
    jsoncache.cached("u", "other kind", lambda: 0, _any)
    assert len(_files("t")) == 3 and len(_files("u")) == 1


def test_the_catalog_read_back_from_the_cache_is_the_same_engine() -> None:
    first = load_catalog(include_user=False)
    assert len(_files("toml-v1")) >= 13  # (the built-in catalog's files)
    again = load_catalog(include_user=False)
    assert [(r.id, r.regex.pattern, r.severity, r.title, r.fix) for r in first] == [
        (r.id, r.regex.pattern, r.severity, r.title, r.fix) for r in again
    ]


def test_an_edited_user_catalog_is_parsed_anew(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    entry = """
[[recognizer]]
id = "mine.thing"
family = "postfix"
match = "thing"
pattern = 'a (?P<x>thing)'
severity = "notice"
title = "{title}"
summary = "s"
cause = "c"
fix = "f"
samples = ['a thing']
"""
    (folder / "mine.toml").write_text(entry.format(title="first"), encoding="utf-8")
    titles = [r.title for r in load_catalog(folder) if r.id == "mine.thing"]
    (folder / "mine.toml").write_text(entry.format(title="second"), encoding="utf-8")
    titles += [r.title for r in load_catalog(folder) if r.id == "mine.thing"]
    assert titles == ["first", "second"]


def test_pattern_translations_are_kept_until_the_rules_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mailtui.analysis.fast import fold, native

    regexes = [r.regex for r in load_catalog(include_user=False)]
    fresh = fold.translations(regexes)
    assert fresh == [native.translate(r) for r in regexes]
    calls: list[int] = []
    real = native.translate

    def counted(regex: object) -> native.Native:
        calls.append(1)
        return real(regex)  # type: ignore[arg-type]

    monkeypatch.setattr(fold, "translate", counted)
    assert fold.translations(regexes) == fresh and calls == []  # read back, not translated
    edited = tmp_path / "native.py"
    edited.write_text(Path(native.__file__).read_text(encoding="utf-8") + "\n# a new rule\n", encoding="utf-8")
    monkeypatch.setattr(native, "__file__", str(edited))
    assert fold.translations(regexes) == fresh and len(calls) == len(regexes)  # another text: anew
    assert fold.translations(regexes[:5]) == fresh[:5]  # other patterns: anew too
    assert len(calls) == len(regexes) + 5


def test_a_value_the_caller_refuses_is_computed_again() -> None:
    calls, compute = _counting({"recognizer": []})
    jsoncache.cached("t", "k", compute, _any)  # type: ignore[arg-type]
    (path,) = _files("t")
    held = json.loads(path.read_bytes())
    path.write_text(json.dumps({**held, "value": ["a list, not the table a catalog is"]}))
    assert jsoncache.cached("t", "k", compute, lambda v: isinstance(v, dict)) == {"recognizer": []}  # type: ignore[arg-type]
    assert len(calls) == 2


def test_an_edited_cache_file_never_reaches_the_engine(tmp_path: Path) -> None:
    from mailtui.analysis.fast import fold

    regexes = [r.regex for r in load_catalog(include_user=False)][:20]
    fresh = fold.translations(regexes)
    (path,) = _files("native-v1")
    held = json.loads(path.read_bytes())
    for damage in ([["exact"]], [["exact", 1, "", ""]] * 20, {"a": 1}, [[]] * 19):
        path.write_text(json.dumps({**held, "value": damage}))
        assert fold.translations(regexes) == fresh
    ids = [r.id for r in load_catalog(include_user=False)]
    for path in _files("toml-v1"):
        path.write_text(json.dumps({**json.loads(path.read_bytes()), "value": ["not a table"]}))
    assert [r.id for r in load_catalog(include_user=False)] == ids
