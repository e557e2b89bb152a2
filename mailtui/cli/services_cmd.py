"""``mailtui services``: daemons, listening ports, queue, disks, certificates; exit 1 on alerts."""

from __future__ import annotations

import argparse
import time

from mailtui.cli.output import print_json, print_table
from mailtui.config import Config
from mailtui.settings import settings_from

HELP = "daemons, listening ports, mail queue, disk and certificates; exit code 1 when an alert fires"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages", action="store_true", help="list every queued message too")


def run(args: argparse.Namespace, cfg: Config) -> int:
    from mailtui.system.report import ServicesCollector
    from mailtui.system.units import human_age, human_bytes, plural

    report = ServicesCollector.from_settings(settings_from(cfg)).collect()
    if args.json:
        data = report.to_dict()
        if data["queue"] is not None and not args.messages:
            data["queue"].pop("messages")
        print_json(data)
        return 1 if report.alerts else 0
    now = time.time()
    if not report.daemons:
        print("no mail daemon found: Postfix, Dovecot and fail2ban are neither installed nor running")
    else:
        print_table(
            [
                [
                    d.label,
                    "running" if d.running else "DOWN",
                    str(d.pid or "-"),
                    human_age(d.uptime(now)),
                    str(sum(d.children.values())),
                    "-" if d.cpu_percent is None else f"{d.cpu_percent:.1f}%",
                    human_bytes(d.rss) if d.running else "-",
                    str(d.restarts),
                ]
                for d in report.daemons
            ],
            ["daemon", "state", "pid", "uptime", "children", "cpu", "memory", "restarts"],
        )
    if report.ports:
        print()
        print_table(
            [
                [str(p.port), p.address, f"{p.daemon} {p.service}".strip(), p.tls or "-", p.state, p.owner or "-"]
                for p in report.ports
            ],
            ["port", "address", "service", "tls", "state", "held by"],
        )
    elif report.daemons:
        print("\nno listening port expected: no Postfix or Dovecot configuration could be read")
    queue = report.queue
    if queue is not None:
        print()
        if queue.error:
            print(f"queue: {queue.error}")
        else:
            counts = ", ".join(f"{q} {n}" for q, n in queue.counts().items())
            if queue.total:
                print(f"queue: {plural(queue.total, 'message')} ({counts}); oldest {human_age(queue.oldest_age())}")
            else:
                print("queue: empty")
            for group in queue.reasons()[:10]:
                label = f" [{group.title}]" if group.title else ""
                print(f"  {group.count:>5}  {group.reason}{label}")
            if args.messages and queue.messages:
                print_table(
                    [
                        [
                            m.queue_id,
                            m.queue,
                            human_age(now - m.arrival),
                            m.sender or "<>",
                            ", ".join(r.address for r in m.recipients),
                        ]
                        for m in queue.messages
                    ],
                    ["queue id", "queue", "age", "sender", "recipients"],
                )
    print()
    for disk in report.disks:
        if disk.error:
            print(f"disk {disk.label} ({disk.path}): {disk.error}")
        else:
            print(
                f"disk {disk.label} ({disk.path}): {disk.percent:.0f}% used, {human_bytes(disk.free)} free, "
                f"inodes {disk.inodes_percent if disk.inodes_percent is not None else '?'}%"
            )
    if report.load is not None:
        ld = report.load
        print(
            f"load {ld.load[0]:.2f} {ld.load[1]:.2f} {ld.load[2]:.2f} on {plural(ld.cpus, 'CPU')}; "
            f"memory {ld.memory_percent:.0f}%, swap {ld.swap_percent:.0f}%"
        )
    for cert in report.certificates:
        days = cert.days_left(now)
        if cert.error or days is None:
            state = cert.error or f"{cert.subject}, expiry unknown"
        elif days < 0:
            state = f"{cert.subject}, EXPIRED {plural(round(-days), 'day')} ago"
        else:
            state = f"{cert.subject}, expires in {plural(round(days), 'day')}"
        print(f"certificate {cert.path} ({cert.used_by}): {state}")
    for note in report.notes:
        print(f"note: {note}")
    if report.alerts:
        print()
        for alert in report.alerts:
            print(f"ALERT [{alert.severity}] {alert.message}")
    return 1 if report.alerts else 0
