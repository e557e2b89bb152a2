"""Generate a realistic Postfix + Dovecot mail.log of N lines (deterministic, seeded).

The mix follows a busy small server: mostly connect/disconnect and deliveries, some
rejects, SASL failures and Dovecot logins. Shapes are the ones the rig captured from the
real daemons; addresses are from documentation ranges.
"""

from __future__ import annotations

import argparse
import random
from datetime import datetime, timedelta


def generate(n: int, seed: int = 7):
    rnd = random.Random(seed)
    t = datetime(2026, 3, 1, 0, 0, 0)
    qid = 0x1A2B3C4D50
    count = 0
    while count < n:
        t += timedelta(milliseconds=rnd.randint(5, 120))
        stamp = f"{t:%b} {t.day:2d} {t:%H:%M:%S}"
        ip = f"198.51.100.{rnd.randint(1, 254)}" if rnd.random() < 0.7 else f"203.0.113.{rnd.randint(1, 254)}"
        pid = rnd.randint(1000, 30000)
        r = rnd.random()
        host = "mx postfix/smtpd"
        if r < 0.45:
            qid += rnd.randint(1, 50)
            q = f"{qid:X}"
            block = [
                f"{stamp} {host}[{pid}]: connect from mta{rnd.randint(1, 99)}.example.org[{ip}]",
                f"{stamp} {host}[{pid}]: {q}: client=mta.example.org[{ip}]",
                f"{stamp} mx postfix/cleanup[{pid + 1}]: {q}: message-id=<{q}@example.org>",
                f"{stamp} mx postfix/qmgr[999]: {q}: from=<news@example.org>, size={rnd.randint(900, 90000)}, nrcpt=1 (queue active)",
                f"{stamp} mx postfix/lmtp[{pid + 2}]: {q}: to=<user{rnd.randint(1, 50)}@example.net>, relay=mx.example.net[private/dovecot-lmtp], delay=0.2, delays=0.1/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 <u> Saved)",
                f"{stamp} mx postfix/qmgr[999]: {q}: removed",
                f"{stamp} {host}[{pid}]: disconnect from mta.example.org[{ip}] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5",
            ]
        elif r < 0.60:
            block = [
                f"{stamp} {host}[{pid}]: connect from unknown[{ip}]",
                f"{stamp} {host}[{pid}]: lost connection after CONNECT from unknown[{ip}]",
                f"{stamp} {host}[{pid}]: disconnect from unknown[{ip}] commands=0/0",
            ]
        elif r < 0.72:
            block = [
                f"{stamp} {host}[{pid}]: NOQUEUE: reject: RCPT from unknown[{ip}]: 454 4.7.1 <x{rnd.randint(1, 9)}@example.com>: Relay access denied; from=<spam@example.com> to=<x@example.com> proto=ESMTP helo=<bot>"
            ]
        elif r < 0.80:
            block = [
                f"{stamp} {host}[{pid}]: NOQUEUE: reject: RCPT from unknown[{ip}]: 504 5.5.2 <WIN-{rnd.randint(100, 999)}>: Helo command rejected: need fully-qualified hostname; from=<a@example.org> to=<b@example.net> proto=ESMTP helo=<WIN-1>"
            ]
        elif r < 0.88:
            block = [
                f"{stamp} mx postfix/submission/smtpd[{pid}]: warning: unknown[{ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
                f"{stamp} mx postfix/submission/smtpd[{pid}]: disconnect from unknown[{ip}] ehlo=1 auth=0/1 quit=1 commands=2/3",
            ]
        elif r < 0.95:
            block = [
                f"{stamp} mx dovecot: imap-login: Login: user=<user{rnd.randint(1, 50)}@example.net>, method=PLAIN, rip={ip}, lip=192.0.2.1, mpid={pid}, TLS, session=<abc{pid}>"
            ]
        else:
            block = [
                f"{stamp} mx dovecot: pop3-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<user{rnd.randint(1, 50)}>, method=PLAIN, rip={ip}, lip=192.0.2.1, TLS, session=<def{pid}>"
            ]
        for line in block:
            yield line
            count += 1
            if count >= n:
                return


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("lines", type=int)
    ap.add_argument("out")
    args = ap.parse_args()
    with open(args.out, "w") as fh:
        for line in generate(args.lines):
            fh.write(line + "\n")


if __name__ == "__main__":
    main()
