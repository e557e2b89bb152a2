"""``mailtui config``: the configuration in force, where each value came from, and the logs found.

A setting left empty means "find it out": the table shows what mailtui then uses (the socket
fail2ban.conf names, Postfix's config_directory, the mail log found, ...) and how it knew,
not an empty string.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from mailtui.cli.output import print_json, print_table
from mailtui.config import Config
from mailtui.settings import settings_from

HELP = "print the configuration in force, where each value comes from, and the logs found"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-logs", action="store_true", help="skip log auto-detection")


def _auto(key: str, cfg: Config, logs: list[Any]) -> tuple[Any, str]:
    """(the value in force, how it was found) for a setting left empty; ("", why) if none."""
    from mailtui.logs.locate import fail2ban_setting

    if key in ("logs.mail", "logs.dovecot", "logs.fail2ban", "logs.files"):
        kinds = {
            "logs.mail": ("mail",),
            "logs.dovecot": ("dovecot",),
            "logs.fail2ban": ("fail2ban",),
            "logs.files": ("mail", "dovecot", "fail2ban", "journald"),
        }[key]
        found = [loc for loc in logs if loc.kind in kinds]
        if key == "logs.fail2ban" and not found:
            target = fail2ban_setting("logtarget")
            return (target, "fail2ban.conf logtarget") if target else ("", "not found")
        if not found:
            return "", "not found" if logs or key == "logs.files" else "not looked for (--no-logs)"
        if key == "logs.files":
            return [loc.path or "(journal)" for loc in found], "auto-detected (see logs below)"
        return found[0].path or "(journal)", f"auto: {found[0].origin}"
    if key == "fail2ban.socket":
        from mailtui.logs.locate import FAIL2BAN_DEFAULT_SOCKET as DEFAULT_SOCKET

        configured = fail2ban_setting("socket")
        return (configured, "auto: fail2ban.conf socket") if configured else (DEFAULT_SOCKET, "fail2ban's default")
    if key == "postfix.config_dir":
        from mailtui.mta.postconf import PostfixConfig

        postfix = PostfixConfig()
        if not postfix.available:
            return "", postfix.problem
        return str(postfix.config_dir()), "auto: postconf config_directory"
    if key == "dovecot.config":
        from mailtui.mta.doveconf import DovecotConfig

        dovecot = DovecotConfig()
        return (dovecot.config_file, "Dovecot's default") if dovecot.available else ("", dovecot.problem)
    if key == "dns.domain":
        from mailtui.dns.context import default_domain

        domain = default_domain(settings_from(cfg))
        return (domain, "auto: postconf mydomain") if domain else ("", "none: `check` needs a domain")
    if key == "dns.nameserver":
        import dns.resolver

        try:
            servers = dns.resolver.Resolver(configure=True).nameservers[:3]
        except Exception:  # noqa: BLE001 - dnspython raises its own kinds for a broken resolv.conf
            servers = []
        if not servers:
            return "", "/etc/resolv.conf lists none"
        return ", ".join(map(str, servers)), "auto: /etc/resolv.conf"
    if key == "dns.ca_file":
        return "", "default: the system trust store only"
    return "", ""


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value)) if value else "(none)"
    return str(value) if value != "" else "(none)"


def in_force(cfg: Config, logs: list[Any]) -> list[dict[str, Any]]:
    """Each setting's row with ``in_force`` and ``in_force_from`` added: the value used and why."""
    rows = cfg.as_rows()
    for row in rows:
        row["in_force"], row["in_force_from"] = row["value"], row["source"]
        if row["value"] in ("", []):
            auto, how = _auto(row["key"], cfg, logs)
            if auto not in ("", []) or how:
                row["in_force"], row["in_force_from"] = (
                    auto,
                    how if row["source"] == "default" else f"{how} ({row['source']} leaves it empty)",
                )
    return rows


def run(args: argparse.Namespace, cfg: Config) -> int:
    from mailtui.logs.locate import locate_logs

    logs = [] if args.no_logs else locate_logs(cfg)
    rows = in_force(cfg, logs)
    appliance = _containers(cfg)
    if args.json:
        print_json(
            {
                "files_read": cfg.files_read,
                "settings": rows,
                "logs": [loc.to_dict() for loc in logs],
                "containers": appliance,
                "hosts": [h.to_dict() for h in cfg.hosts],
            }
        )
        return 0
    out = sys.stdout
    out.write("config files read: " + (", ".join(cfg.files_read) or "none (every value is a default)") + "\n\n")
    print_table([[r["key"], _shown(r["in_force"]), r["in_force_from"]] for r in rows], ["setting", "in force", "from"])
    if not args.no_logs:
        out.write("\nlogs:\n")
        table = [
            [
                loc.kind,
                loc.shown + (f" (host {loc.host})" if loc.host else ""),
                loc.origin,
                loc.problem or loc.note or "ok",
            ]
            for loc in logs
        ]
        if table:
            print_table(table, ["kind", "path", "found by", "status"])
        else:
            out.write("  none found: pass --log PATH or set [logs] mail = ... in the config\n")
    if appliance["containers"]:
        out.write(f"\nmail appliance in containers ({appliance['appliance']}, {appliance['socket']}):\n")
        for c in appliance["containers"]:
            out.write(f"  {c['name']}: {', '.join(c['roles'])} ({c['appliance']})\n")
        for route in appliance["routes"]:
            out.write(f"  {route}\n")
    else:
        out.write(f"\ncontainers: not used: {appliance['reason']}\n")
    if cfg.hosts:
        out.write("\nhosts (the fleet over ssh, docs/fleet.md):\n")
        print_table(
            [
                [
                    h.name,
                    h.ssh,
                    h.command + (" (-F " + h.ssh_config + ")" if h.ssh_config else ""),
                    "yes" if h.read_only else "no",
                    h.source,
                ]
                for h in cfg.hosts
            ],
            ["host", "ssh", "agent command", "read-only", "from"],
        )
    return 0


def _containers(cfg: Config) -> dict[str, Any]:
    """Whether a mail appliance in containers is read, and why not (one line)."""
    from mailtui.containers.setup import discover

    setup = discover(settings_from(cfg).containers, routes=False)
    if setup.client is not None:
        setup.client.close()
    return {
        "mode": setup.mode,
        "socket": setup.socket,
        "reason": setup.reason,
        "appliance": setup.detection.appliance,
        "containers": [
            {"name": m.container.name, "appliance": m.appliance, "roles": list(m.roles)}
            for m in setup.detection.containers
        ],
        "routes": [
            f"postconf, postqueue, postsuper -> container {m.container.name}"
            for m in setup.detection.with_role("postfix")[:1]
        ]
        + [f"doveconf, doveadm -> container {m.container.name}" for m in setup.detection.with_role("dovecot")[:1]],
    }
