"""Run a scenario against the rig and collect the lines the daemons wrote for it."""

from __future__ import annotations

from dataclasses import dataclass

from tests.rig.base import wait_for
from tests.rig.postfix import Postfix
from tests.rig.rig import Rig
from tests.rig.scenarios import Scenario


@dataclass
class Outcome:
    scenario: Scenario
    ip: str
    log_names: dict[str, str]  # expectation log -> rig log name
    lines: dict[str, list[str]]  # rig log name -> new lines mentioning the scenario's address
    matched: dict[int, str]  # index of expectation -> the line that matched it

    @property
    def missing(self) -> list[str]:
        return [e.template for i, e in enumerate(self.scenario.expect) if i not in self.matched]


def log_name(rig: Rig, pf: Postfix, log: str) -> str:
    if log == "postfix":
        return "syslog" if pf is rig.postfix else "maillog_file"
    return log


def run_scenario(rig: Rig, scenario: Scenario, pf: Postfix, timeout: float = 20.0) -> Outcome:
    ip = rig.fresh_ip()
    offsets = rig.offsets()
    scenario.drive(rig, pf, ip)
    names = {e.log: log_name(rig, pf, e.log) for e in scenario.expect}
    regexes = [e.regex(ip) for e in scenario.expect]
    outcome = Outcome(scenario, ip, names, {}, {})

    def collect() -> bool:
        for name in set(names.values()):
            text = rig.new_text(name, offsets)
            outcome.lines[name] = [ln for ln in text.splitlines() if _mentions(ln, ip)]
        for i, expectation in enumerate(scenario.expect):
            if i in outcome.matched:
                continue
            for line in outcome.lines[names[expectation.log]]:
                if regexes[i].search(line):
                    outcome.matched[i] = line
                    break
        return len(outcome.matched) == len(scenario.expect)

    try:
        wait_for(collect, timeout, interval=0.1, what=f"the lines of scenario {scenario.name}")
    except TimeoutError:
        pass  # the caller reports what is missing, with the lines that did appear
    return outcome


def _mentions(line: str, ip: str) -> bool:
    idx = line.find(ip)
    while idx != -1:
        end = idx + len(ip)
        if end == len(line) or not line[end].isdigit():
            return True
        idx = line.find(ip, end)
    return False
