"""``mailtui check DOMAIN``: MX, SRV, SPF/DMARC/DKIM, MTA-STS, TLS-RPT, DANE, CAA, autoconfig,
autodiscover, live TLS probes, and the consistency of all of it; exit code = worst finding."""

from __future__ import annotations

import argparse

from mailtui.cli.output import CliError, print_json
from mailtui.config import Config

HELP = "check a domain's DNS, autoconfig/autodiscover and advertised ports (exit 0 ok, 1 warn, 3 fail, 4 timeout/error)"
EXIT = {"ok": 0, "info": 0, "not_offered": 0, "warn": 1, "fail": 3, "timeout": 4, "error": 4}
MARK = {"ok": "ok", "info": "info", "not_offered": "not offered", "warn": "WARN", "fail": "FAIL",
        "timeout": "TIMEOUT", "error": "ERROR"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("domain", nargs="?", help="the domain (default: [dns] domain, else postconf mydomain)")
    parser.add_argument("--email", help="the address clients would set up (default: postmaster@DOMAIN)")
    parser.add_argument("--nameserver", metavar="HOST[:PORT]", help="ask this name server (default: [dns] nameserver, "
                        "else /etc/resolv.conf)")
    parser.add_argument("--selector", action="append", metavar="S", help="DKIM selector (repeatable; default: "
                        "'default' plus the local OpenDKIM/rspamd ones)")
    parser.add_argument("--no-probes", action="store_true", help="do not connect to the advertised ports")
    parser.add_argument("--deadline", type=float, default=25.0, help="seconds for the whole check (default 25)")
    parser.add_argument("--verbose", "-v", action="store_true", help="print each finding's detail")


def run(args: argparse.Namespace, cfg: Config) -> int:
    from mailtui.dns.context import default_domain, options_from_config
    from mailtui.dns.run import check_domain

    domain = args.domain or default_domain(cfg)
    if not domain:
        raise CliError("no domain given, no [dns] domain configured and no Postfix mydomain to default to")
    try:
        options = options_from_config(cfg, domain, email=args.email or "", nameserver=args.nameserver,
                               selectors=tuple(args.selector or ("default",)), probes=not args.no_probes,
                               deadline=args.deadline)
        report = check_domain(options)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print_json(report.to_dict())
    else:
        title = (report.domain if report.domain == report.unicode_domain
                 else f"{report.unicode_domain} ({report.domain})")
        print(f"{title} — asked {report.nameserver}, {report.queries} queries, {report.elapsed:.2f} s")
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
