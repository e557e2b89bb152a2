"""``mailtui check DOMAIN``: MX, SRV, SPF/DMARC/DKIM, MTA-STS, TLS-RPT, DANE, CAA, autoconfig,
autodiscover, live TLS probes, and the consistency of all of it; exit code = worst finding."""

from __future__ import annotations

import argparse
from typing import Any

from mailtui.cli import validate
from mailtui.cli.output import CliError, print_json
from mailtui.config import Config
from mailtui.settings import settings_from
from mailtui.system.units import plural

HELP = "check a domain's DNS, autoconfig/autodiscover and advertised ports (exit 0 ok, 1 warn, 3 fail, 4 timeout/error)"
EXIT = {"ok": 0, "info": 0, "not_offered": 0, "warn": 1, "fail": 3, "timeout": 4, "error": 4}
MARK = {
    "ok": "ok",
    "info": "info",
    "not_offered": "not offered",
    "warn": "WARN",
    "fail": "FAIL",
    "timeout": "TIMEOUT",
    "error": "ERROR",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("domain", nargs="?", help="the domain (default: [dns] domain, else postconf mydomain)")
    parser.add_argument("--email", help="the address clients would set up (default: postmaster@DOMAIN)")
    parser.add_argument(
        "--nameserver",
        metavar="HOST[:PORT]",
        type=validate.nameserver,
        help="ask this name server (default: [dns] nameserver, else /etc/resolv.conf)",
    )
    parser.add_argument(
        "--selector",
        action="append",
        metavar="S",
        help="DKIM selector (repeatable; default: 'default' plus the local OpenDKIM/rspamd ones)",
    )
    parser.add_argument("--no-probes", action="store_true", help="do not connect to the advertised ports")
    parser.add_argument(
        "--deadline",
        type=validate.seconds(0, 3600),
        default=25.0,
        help="seconds for the whole check (default 25, at most 3600)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="print each finding's detail")
    parser.add_argument(
        "--blocklists",
        action="store_true",
        help="also look our sending addresses and the domain up on DNS blocklists "
        "([dns] blocklists, else Spamhaus ZEN/DBL, Barracuda, SpamCop, PSBL)",
    )
    parser.add_argument(
        "--send-address",
        action="append",
        metavar="IP",
        help="with --blocklists: an address we send from (default: postconf, interfaces)",
    )
    parser.add_argument("--diff", metavar="LAST.json", help="print only what changed since that report (for cron)")
    parser.add_argument("--save", metavar="FILE", help="write this run's report there (JSON) for the next --diff")


def run(args: argparse.Namespace, cfg: Config) -> int:
    from mailtui.dns.context import default_domain, options_from_settings
    from mailtui.dns.run import check_domain

    settings = settings_from(cfg)
    domain = args.domain or default_domain(settings)
    if not domain:
        raise CliError("no domain given, no [dns] domain configured and no Postfix mydomain to default to")
    _check_domain_name(domain)
    try:
        extra: dict[str, Any] = {}
        if args.blocklists or args.send_address:
            from mailtui.dns.blocklists import DEFAULT_LISTS

            extra["blocklists"] = settings.dns.blocklists or tuple(DEFAULT_LISTS)
            extra["send_addresses"] = tuple(args.send_address or ())
        options = options_from_settings(
            settings,
            domain,
            email=args.email or "",
            nameserver=args.nameserver,
            selectors=tuple(args.selector or ("default",)),
            probes=not args.no_probes,
            deadline=args.deadline,
            **extra,
        )
        report = check_domain(options)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if args.diff or args.save:
        return _diff_and_save(args, report.to_dict(), EXIT[report.worst()])
    if args.json:
        print_json(report.to_dict())
    else:
        title = (
            report.domain if report.domain == report.unicode_domain else f"{report.unicode_domain} ({report.domain})"
        )
        print(f"{title} — asked {report.nameserver}, {plural(report.queries, 'query')}, {report.elapsed:.2f} s")
        group = ""
        for f in report.ordered():
            if f.group != group:
                group = f.group
                print(f"\n{group}")
            print(f"  {MARK[f.status]:<11} {f.summary}")
            if args.verbose and f.detail:
                for line in f.detail.splitlines():
                    print(f"              {line}")
    return EXIT[report.worst()]


def _diff_and_save(args: argparse.Namespace, current: dict[str, Any], code: int) -> int:
    """``--diff``: only the changes (nothing when nothing changed, so cron stays quiet); ``--save``:
    this report for the next run. The exit code stays the check's own."""
    from mailtui.dns.diff import DiffError, diff, load_previous, save

    if args.diff:
        try:
            previous = load_previous(args.diff)
        except DiffError as exc:
            raise CliError(str(exc)) from None
        changes = diff(previous, current)
        if args.json:
            print_json(changes.to_dict())
        else:
            for change in changes.changes:
                print(change.line())
    elif args.json:
        print_json(current)
    if args.save:
        try:
            save(args.save, current)
        except OSError as exc:
            raise CliError(f"{args.save}: {exc.strerror}") from None
    return code


def _check_domain_name(domain: str) -> None:
    """A host name, in Unicode or xn-- form, that converts both ways (``xn--zz.com`` does not)."""
    import re

    import dns.exception
    import dns.name

    try:
        name = dns.name.from_unicode(domain.strip().rstrip(".") + ".")
        name.to_unicode()
    except (dns.exception.DNSException, UnicodeError, ValueError) as exc:
        raise CliError(f"{domain!r} is not a valid domain name: {exc}") from None
    for label in name.labels[:-1]:
        if not re.fullmatch(rb"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?", label):
            raise CliError(
                f"{domain!r} is not a host name: {label.decode('ascii', 'replace')!r} may only hold "
                "letters, digits and '-' (not at either end)"
            )
