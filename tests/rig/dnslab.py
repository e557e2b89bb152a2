"""The DNS lab: NSD serving test domains, a web server with a throwaway CA, and mail daemons
holding that CA's certificate on the standard ports of their own loopback address.

Domains (all answered by the lab's NSD only, on a high port):

- ``good.test``: the SSL-only layout (``_imap``/``_pop3`` point to ``.``), SPF, DMARC, a
  real DKIM key, MTA-STS (enforce), TLS-RPT, TLSA matching the served certificate, CAA,
  autoconfig and autodiscover agreeing with the SRV records and the live ports.
- ``broken.test``: one of every classic mistake (MX to a CNAME, 11 SPF lookups, DMARC reports
  to an unauthorizing domain, MTA-STS policy behind a redirect, SRV "imaps" on the STARTTLS
  port, a certificate that does not cover the SRV target, nothing on 465, autoconfig saying
  SSL on 587, an XML bomb, an oversized body, a redirect loop, a slowloris, a redirectUrl loop).
- ``mailcow.test``: mailcow-style names (autoconfig/autodiscover as CNAMEs; autodiscover 401).
- ``xn--bcher-kva.test`` (bücher.test): an IDN domain.
- ``servfail.test``: configured in NSD with an unloadable zone file, so NSD answers SERVFAIL.
- ``expired.test``: ``_imaps._tcp`` to a Dovecot on 127.0.0.26 whose certificate expired yesterday.
- ``iplit.test``: an MX written as an address.
- ``big.test``: so many TXT records at the apex (site verifications and the SPF record) that
  the answer does not fit a 1232-byte UDP reply: NSD truncates it (TC) and it needs TCP.
- the corpus's ``example.test`` (null MX at ``nomail``).

Mail daemons listen on 127.0.0.25 (``mail.good.test``): Postfix 25/587, Dovecot
143/993/110/995. The web server listens on 127.0.0.80:443 (TLS) and :80.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.rig.dovecot import Dovecot, start_dovecot
from tests.rig.nsd import Nsd, start_nsd
from tests.rig.postfix import Postfix, start_postfix

MAIL_IP = "127.0.0.25"
EXPIRED_IP = "127.0.0.26"  # a Dovecot whose certificate has expired (mail.expired.test)
WEB_IP = "127.0.0.80"
MAIL_HOST = "mail.good.test"

SOA = "@ IN SOA ns1 hostmaster ( 1 3600 900 1209600 300 )\n@ IN NS ns1\nns1 IN A 127.0.0.1\n"

AUTOCONFIG_GOOD = """<?xml version="1.0"?>
<clientConfig version="1.1">
  <emailProvider id="good.test">
    <domain>good.test</domain>
    <incomingServer type="imap"><hostname>mail.good.test</hostname><port>993</port>
      <socketType>SSL</socketType><authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username></incomingServer>
    <incomingServer type="pop3"><hostname>mail.good.test</hostname><port>995</port>
      <socketType>SSL</socketType><authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username></incomingServer>
    <outgoingServer type="smtp"><hostname>mail.good.test</hostname><port>587</port>
      <socketType>STARTTLS</socketType><authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username></outgoingServer>
  </emailProvider>
</clientConfig>
"""

AUTOCONFIG_BROKEN = AUTOCONFIG_GOOD.replace("good.test</domain>", "broken.test</domain>").replace(
    "<port>587</port>\n      <socketType>STARTTLS</socketType>", "<port>587</port>\n      <socketType>SSL</socketType>"
)

AUTOCONFIG_MAILCOW = AUTOCONFIG_GOOD.replace("<domain>good.test</domain>", "<domain>%EMAILDOMAIN%</domain>")

XML_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<clientConfig><emailProvider id="x"><domain>&lol3;</domain></emailProvider></clientConfig>
"""

AUTODISCOVER_GOOD = """<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account><AccountType>email</AccountType><Action>settings</Action>
      <Protocol><Type>IMAP</Type><Server>mail.good.test</Server><Port>993</Port><SPA>off</SPA>
        <SSL>on</SSL><AuthRequired>on</AuthRequired></Protocol>
      <Protocol><Type>SMTP</Type><Server>mail.good.test</Server><Port>587</Port><SPA>off</SPA>
        <SSL>on</SSL><Encryption>TLS</Encryption><AuthRequired>on</AuthRequired></Protocol>
    </Account>
  </Response>
</Autodiscover>
"""

AUTODISCOVER_LOOP = """<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account><Action>redirectUrl</Action>
      <RedirectUrl>https://autodiscover.broken.test/autodiscover/autodiscover.xml</RedirectUrl></Account>
  </Response>
</Autodiscover>
"""

STS_POLICY = "version: STSv1\r\nmode: enforce\r\nmx: mail.good.test\r\nmax_age: 604800\r\n"

#: (scheme, host, path) -> (status, headers, body) or a callable writing the whole answer
Route = tuple[int, dict[str, str], bytes]


@dataclass
class Web:
    routes: dict[tuple[str, str, str], Route | Callable] = field(default_factory=dict)
    servers: list[http.server.ThreadingHTTPServer] = field(default_factory=list)
    hits: list[tuple[str, str, str, str]] = field(default_factory=list)

    def stop(self) -> None:
        for s in self.servers:
            s.shutdown()
            s.server_close()


def _handler(web: Web, scheme: str):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(min(length, 1 << 20))
            host = (self.headers.get("Host") or "").split(":")[0].lower()
            path = self.path.split("?", 1)[0]
            web.hits.append((scheme, host, path, self.command))
            route = web.routes.get((scheme, host, path))
            if callable(route):
                route(self)
                return
            status, headers, body = route or (404, {"Content-Type": "text/plain"}, b"not here\n")
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

    return Handler


def _slowloris(handler: http.server.BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/xml")
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    try:
        for _ in range(100):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.2)
    except OSError:
        pass


def _routes(lab_domain_routes: dict) -> dict:
    xml = {"Content-Type": "application/xml"}
    ac = "/mail/config-v1.1.xml"
    wk = "/.well-known/autoconfig/mail/config-v1.1.xml"
    ad = "/autodiscover/autodiscover.xml"
    routes: dict = {
        ("https", "autoconfig.good.test", ac): (200, xml, AUTOCONFIG_GOOD.encode()),
        ("https", "good.test", wk): (200, xml, AUTOCONFIG_GOOD.encode()),
        ("https", "autodiscover.good.test", ad): (200, xml, AUTODISCOVER_GOOD.encode()),
        ("http", "autodiscover.good.test", ad): (302, {"Location": f"https://autodiscover.good.test{ad}"}, b""),
        ("https", "mta-sts.good.test", "/.well-known/mta-sts.txt"): (
            200,
            {"Content-Type": "text/plain"},
            STS_POLICY.encode(),
        ),
        ("https", "autoconfig.broken.test", ac): (200, xml, AUTOCONFIG_BROKEN.encode()),
        ("https", "broken.test", wk): (200, xml, XML_BOMB),
        ("http", "autoconfig.broken.test", ac): (200, xml, b"<" + b"x" * (2 << 20) + b"/>"),
        ("http", "broken.test", wk): (302, {"Location": "http://broken.test/loop-a"}, b""),
        ("http", "broken.test", "/loop-a"): (302, {"Location": f"http://broken.test{wk}"}, b""),
        ("https", "autodiscover.broken.test", ad): (200, xml, AUTODISCOVER_LOOP.encode()),
        ("https", "broken.test", ad): _slowloris,
        ("https", "mta-sts.broken.test", "/.well-known/mta-sts.txt"): (
            301,
            {"Location": "https://mta-sts.good.test/.well-known/mta-sts.txt"},
            b"",
        ),
        ("https", "autoconfig.mailcow.test", ac): (200, xml, AUTOCONFIG_MAILCOW.encode()),
        ("https", "autodiscover.mailcow.test", ad): (401, {"WWW-Authenticate": 'Basic realm="mailcow"'}, b""),
        ("https", "web.mailcow.test", ad): (401, {"WWW-Authenticate": 'Basic realm="mailcow"'}, b""),
    }
    routes.update(lab_domain_routes)
    return routes


WEB_NAMES = [
    "good.test",
    "autoconfig.good.test",
    "autodiscover.good.test",
    "mta-sts.good.test",
    "broken.test",
    "autoconfig.broken.test",
    "autodiscover.broken.test",
    "mta-sts.broken.test",
    "autoconfig.mailcow.test",
    "autodiscover.mailcow.test",
    "web.mailcow.test",
]


def start_web(cert_file: Path, key_file: Path) -> Web:
    web = Web(routes=_routes({}))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert_file), str(key_file))
    for scheme, port in (("https", 443), ("http", 80)):
        server = http.server.ThreadingHTTPServer((WEB_IP, port), _handler(web, scheme))
        server.daemon_threads = True
        if scheme == "https":
            server.socket = ctx.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        web.servers.append(server)
    return web


def _txt(text: str) -> str:
    """A TXT record split into 255-byte strings, as long keys must be."""
    return " ".join(f'"{text[i : i + 255]}"' for i in range(0, len(text), 255))


def spki_sha256(cert_pem: bytes) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    cert = x509.load_pem_x509_certificate(cert_pem)
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def dkim_public_key() -> str:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def zones(mail_cert_pem: bytes) -> dict[str, str]:
    tlsa = spki_sha256(mail_cert_pem)
    good = (
        "$ORIGIN good.test.\n$TTL 300\n" + SOA + "@ IN MX 10 mail\n@ IN A 127.0.0.80\nmail IN A 127.0.0.25\n"
        '@ IN TXT "v=spf1 mx -all"\n'
        '_dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@good.test"\n'
        f"default._domainkey IN TXT {_txt('v=DKIM1; k=rsa; p=' + dkim_public_key())}\n"
        '_mta-sts IN TXT "v=STSv1; id=20261129"\nmta-sts IN A 127.0.0.80\n'
        '_smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@good.test"\n'
        f"_25._tcp.mail IN TLSA 3 1 1 {tlsa}\n"
        "_imaps._tcp IN SRV 0 1 993 mail\n_pop3s._tcp IN SRV 10 1 995 mail\n"
        "_submission._tcp IN SRV 0 1 587 mail\n"
        "_imap._tcp IN SRV 0 0 0 .\n_pop3._tcp IN SRV 0 0 0 .\n"
        "autoconfig IN A 127.0.0.80\nautodiscover IN A 127.0.0.80\n"
        '@ IN CAA 0 issue "letsencrypt.org"\n'
    )
    spf_chain = " ".join(f"include:s{i}.broken.test" for i in range(1, 12))
    broken = (
        "$ORIGIN broken.test.\n$TTL 300\n" + SOA + "@ IN MX 10 mx\nmx IN CNAME mail.good.test.\n@ IN A 127.0.0.80\n"
        f"@ IN TXT {_txt(f'v=spf1 {spf_chain} -all')}\n"
        + "".join(f's{i} IN TXT "v=spf1 -all"\n' for i in range(1, 12))
        + '_dmarc IN TXT "v=DMARC1; p=none; rua=mailto:reports@elsewhere.test"\n'
        '_mta-sts IN TXT "v=STSv1; id=1"\nmta-sts IN A 127.0.0.80\n'
        "_imaps._tcp IN SRV 0 1 143 mail.good.test.\n_imap._tcp IN SRV 0 1 143 mail.good.test.\n"
        "_pop3s._tcp IN SRV 0 1 995 pop\npop IN A 127.0.0.25\n"
        "_submissions._tcp IN SRV 0 1 465 mail.good.test.\n_submission._tcp IN SRV 0 1 587 mail.good.test.\n"
        "autoconfig IN A 127.0.0.80\nautodiscover IN A 127.0.0.80\n"
    )
    mailcow = (
        "$ORIGIN mailcow.test.\n$TTL 300\n" + SOA + "@ IN MX 10 mail.good.test.\nweb IN A 127.0.0.80\n"
        "autoconfig IN CNAME web\nautodiscover IN CNAME web\n"
        "_autodiscover._tcp IN SRV 0 0 443 web\n"
        '@ IN TXT "v=spf1 mx -all"\n'
    )
    return {
        "good.test": good,
        "broken.test": broken,
        "mailcow.test": mailcow,
        "elsewhere.test": "$ORIGIN elsewhere.test.\n$TTL 300\n" + SOA + "@ IN MX 10 mail.good.test.\n",
        "xn--bcher-kva.test": "$ORIGIN xn--bcher-kva.test.\n$TTL 300\n" + SOA + "@ IN MX 10 mail.good.test.\n",
        "servfail.test": "this is not a zone file\n",
        "expired.test": "$ORIGIN expired.test.\n$TTL 300\n" + SOA + "@ IN MX 10 mail.good.test.\n"
        "mail IN A 127.0.0.26\n_imaps._tcp IN SRV 0 1 993 mail\n",
        # an MX whose target is an address written as a name: what some control panels produce
        "iplit.test": "$ORIGIN iplit.test.\n$TTL 300\n" + SOA + "@ IN MX 10 127.0.0.25.\n",
        "big.test": "$ORIGIN big.test.\n$TTL 300\n"
        + SOA
        + "@ IN MX 10 mail.good.test.\n"
        + "".join(f'@ IN TXT "site-verification-{i:02d}={"x" * 150}"\n' for i in range(12))
        + '@ IN TXT "v=spf1 ip4:127.0.0.25 -all"\n',
        "127.in-addr.arpa": "$ORIGIN 127.in-addr.arpa.\n$TTL 300\n"
        + SOA.replace("ns1 IN A 127.0.0.1\n", "").replace("IN NS ns1", "IN NS ns1.good.test.")
        + "25.0.0 IN PTR mail.good.test.\n",
    }


@dataclass
class DnsLab:
    dir: Path
    nsd: Nsd
    web: Web
    dovecot: Dovecot
    postfix: Postfix
    ca_file: Path
    expired: Dovecot | None = None

    @property
    def nameserver(self) -> str:
        return self.nsd.nameserver

    def stop(self) -> None:
        parts = [self.web.stop, self.postfix.stop, self.dovecot.stop, self.nsd.stop]
        if self.expired is not None:
            parts.append(self.expired.stop)
        for stop in parts:
            try:
                stop()
            except Exception:  # noqa: BLE001 - tear down as much as possible
                pass


def start_dnslab(dir: Path) -> DnsLab:
    import trustme

    ca = trustme.CA()
    ca_file = dir / "ca.pem"
    dir.mkdir(parents=True, exist_ok=True)
    ca.cert_pem.write_to_path(str(ca_file))
    import datetime

    mail = ca.issue_cert(MAIL_HOST)
    now = datetime.datetime.now(datetime.timezone.utc)
    expired = ca.issue_cert(
        "mail.expired.test", not_before=now - datetime.timedelta(days=90), not_after=now - datetime.timedelta(days=1)
    )
    started: list = []
    try:
        for sub, leaf in (("dovecot", mail), ("postfix", mail), ("dovecot-expired", expired)):
            (dir / sub).mkdir(parents=True, exist_ok=True)
            (dir / sub).chmod(0o755)
            with open(dir / sub / "cert.pem", "wb") as fh:
                for pem in leaf.cert_chain_pems:
                    fh.write(pem.bytes())
            leaf.private_key_pem.write_to_path(str(dir / sub / "key.pem"))
            (dir / sub / "key.pem").chmod(0o600)
        dovecot = start_dovecot(
            dir / "dovecot", host=MAIL_IP, ports={"imap": 143, "imaps": 993, "pop3": 110, "pop3s": 995}
        )
        started.append(dovecot)
        old_dovecot = start_dovecot(
            dir / "dovecot-expired", host=EXPIRED_IP, ports={"imap": 143, "imaps": 993, "pop3": 110, "pop3s": 995}
        )
        started.append(old_dovecot)
        postfix = start_postfix(
            dir / "postfix", dovecot.auth_socket, host=MAIL_IP, ports={"smtp": 25, "submission": 587}
        )
        started.append(postfix)
        web_cert = ca.issue_cert(*WEB_NAMES)
        web_cert.cert_chain_pems[0].write_to_path(str(dir / "web-cert.pem"))
        web_cert.private_key_pem.write_to_path(str(dir / "web-key.pem"))
        web = start_web(dir / "web-cert.pem", dir / "web-key.pem")
        started.append(web)
        nsd = start_nsd(dir / "nsd", zones=zones(mail.cert_chain_pems[0].bytes()), resolver_ip=None)
    except BaseException:
        for part in reversed(started):
            part.stop()
        raise
    return DnsLab(dir, nsd, web, dovecot, postfix, ca_file, old_dovecot)
