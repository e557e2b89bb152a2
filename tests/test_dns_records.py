"""Parsers of the DNS checks: SPF, DMARC, DKIM, MTA-STS, SRV order, autoconfig/autodiscover XML.

Each takes attacker-controlled text; the Hypothesis tests feed them anything and require an
answer (possibly a list of problems), never an exception.
"""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtui.dns.clientconfig import XmlRefused, parse_autoconfig, parse_autodiscover
from mailtui.dns.model import Finding
from mailtui.dns.probe import name_matches
from mailtui.dns.records import (
    is_spf,
    mailto_domain,
    parse_dkim,
    parse_dmarc,
    parse_spf,
    parse_sts_policy,
    parse_tags,
    srv_order,
    sts_mx_matches,
)
from mailtui.dns.resolver import parse_nameserver, to_name


def test_spf_terms_and_warnings() -> None:
    rec = parse_spf("v=spf1 mx a:mail.x.test/24 ip4:192.0.2.0/24 include:_spf.x.test ~all ptr")
    assert [(t.qualifier, t.name, t.value) for t in rec.terms] == [
        ("+", "mx", ""),
        ("+", "a", "mail.x.test"),
        ("+", "ip4", "192.0.2.0/24"),
        ("+", "include", "_spf.x.test"),
        ("~", "all", ""),
        ("+", "ptr", ""),
    ]
    assert rec.lookups == 4 and not rec.errors
    assert any("after 'all'" in w for w in rec.warnings) and any("ptr" in w for w in rec.warnings)
    assert parse_spf("v=spf1 +all").warnings == ["'+all' lets anyone send as this domain"]
    assert parse_spf("v=spf1 foo:bar -all").errors == ["unknown mechanism 'foo:bar'"]
    assert parse_spf("v=spf1 redirect=a.test redirect=b.test").errors == ["redirect= appears more than once"]
    assert is_spf("v=spf1 -all") and is_spf("v=spf1") and not is_spf("v=spf10 -all")


def test_dmarc_policy_and_reports() -> None:
    good = parse_dmarc("v=DMARC1; p=reject; rua=mailto:d@x.test,mailto:r@rep.test!10m; pct=100")
    assert not good.errors and not good.warnings
    assert [mailto_domain(u) for u in good.report_uris()] == ["x.test", "rep.test"]
    weak = parse_dmarc("v=DMARC1; p=none; pct=50")
    assert any("monitors" in w for w in weak.warnings) and any("pct=50" in w for w in weak.warnings)
    assert any("no rua" in w for w in weak.warnings)
    bad = parse_dmarc("p=reject; v=DMARC1; adkim=x; rua=https://x.test")
    assert "v=DMARC1 must be the first tag" in bad.errors
    assert any("adkim" in e for e in bad.errors) and any("not a mailto" in e for e in bad.errors)
    assert "p= (the policy) is missing" in parse_dmarc("v=DMARC1; rua=mailto:a@b.test").errors


def test_dkim_keys() -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    def key(bits: int) -> str:
        pub = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key()
        return base64.b64encode(pub.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)).decode()

    assert parse_dkim(f"v=DKIM1; k=rsa; p={key(2048)}").bits == 2048
    small = parse_dkim(f"v=DKIM1; p={key(1024)}")
    assert small.bits == 1024 and "2048 is recommended" in small.warnings[0]
    assert parse_dkim("v=DKIM1; p=").revoked
    assert parse_dkim("v=DKIM1; p=!!notbase64").errors == ["p= is not valid base64"]
    assert parse_dkim("v=DKIM1; k=rsa").errors == ["p= (the public key) is missing"]
    assert "testing" in parse_dkim(f"v=DKIM1; t=y; p={key(2048)}").warnings[0]
    assert parse_dkim("v=DKIM1; k=ed25519; p=" + base64.b64encode(b"x" * 32).decode()).bits == 256


def test_mta_sts_policy_and_mx_patterns() -> None:
    pol = parse_sts_policy("version: STSv1\r\nmode: enforce\r\nmx: mail.x.test\r\nmx: *.x.test\r\nmax_age: 604800\r\n")
    assert pol.mode == "enforce" and pol.mx == ["mail.x.test", "*.x.test"] and not pol.errors
    assert sts_mx_matches("mx1.x.test", "*.x.test") and not sts_mx_matches("a.b.x.test", "*.x.test")
    assert not sts_mx_matches("x.test", "*.x.test") and sts_mx_matches("MAIL.x.test.", "mail.x.test")
    bad = parse_sts_policy("mode: sometimes\nmax_age: 99999999999\n")
    assert any("version" in e for e in bad.errors) and any("one year" in e for e in bad.errors)
    assert any("mode" in e for e in bad.errors) and any("no mx" in e for e in bad.errors)


def test_srv_order_follows_rfc_2782() -> None:
    ordered = srv_order([(10, 1, 995, "c"), (0, 3, 993, "a"), (0, 1, 993, "b"), (0, 0, 993, "z")])
    assert [(p, t, s) for p, _, _, t, s in ordered] == [(0, "a", 75.0), (0, "b", 25.0), (0, "z", 0.0), (10, "c", 100.0)]
    assert [s for *_, s in srv_order([(0, 0, 1, "x"), (0, 0, 1, "y")])] == [50.0, 50.0]


def test_certificate_name_matching() -> None:
    assert name_matches("mail.x.test", "*.x.test") and not name_matches("a.mail.x.test", "*.x.test")
    assert name_matches("Mail.X.test", "mail.x.test") and not name_matches("x.test", "*.x.test")


def test_nameserver_and_domain_forms() -> None:
    assert parse_nameserver("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse_nameserver("[::1]:53") == ("::1", 53) and parse_nameserver("::1") == ("::1", 53)
    assert parse_nameserver("9.9.9.9") == ("9.9.9.9", 53)
    assert to_name("bücher.test").to_text() == "xn--bcher-kva.test."
    with pytest.raises(ValueError):
        to_name("bad..name")


AUTOCONFIG = b"""<clientConfig version="1.1"><emailProvider id="x.test"><domain>x.test</domain>
<incomingServer type="imap"><hostname>imap.x.test</hostname><port>993</port><socketType>SSL</socketType>
<authentication>password-cleartext</authentication></incomingServer>
<incomingServer type="pop3"><hostname>pop.x.test</hostname><port>99999</port><socketType>SSL</socketType></incomingServer>
<outgoingServer type="smtp"><hostname>smtp.x.test</hostname><port>587</port><socketType>STARTTLS</socketType>
</outgoingServer></emailProvider></clientConfig>"""


def test_autoconfig_document() -> None:
    doc = parse_autoconfig(AUTOCONFIG)
    assert [(s.protocol, s.host, s.port, s.tls) for s in doc.servers] == [
        ("imap", "imap.x.test", 993, "implicit"),
        ("smtp", "smtp.x.test", 587, "starttls"),
    ]
    assert doc.problems == ["incomingServer pop3 without a valid hostname and port"]
    only_in = parse_autoconfig(AUTOCONFIG.replace(b"outgoingServer", b"ignoredServer"))
    assert "no valid outgoing (smtp) server: Thunderbird rejects the file" in only_in.problems
    with pytest.raises(XmlRefused, match="not <clientConfig>"):
        parse_autoconfig(b"<html><body>hello</body></html>")
    with pytest.raises(XmlRefused, match="entity-expansion"):
        parse_autoconfig(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><clientConfig>&a;</clientConfig>')
    with pytest.raises(XmlRefused, match="entity-expansion"):
        parse_autoconfig(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><clientConfig>&e;</clientConfig>')


def test_autodiscover_document() -> None:
    xml = b"""<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
    <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><Account>
    <Action>settings</Action>
    <Protocol><Type>IMAP</Type><Server>imap.x.test</Server><Port>143</Port><SSL>on</SSL><SPA>off</SPA></Protocol>
    <Protocol><Type>POP3</Type><Server>pop.x.test</Server><Port>995</Port></Protocol>
    <Protocol><Type>SMTP</Type><Server>smtp.x.test</Server><Port>587</Port><SSL>off</SSL><SPA>off</SPA></Protocol>
    <Protocol><Type>EXCH</Type><Server>ex.x.test</Server></Protocol></Account></Response></Autodiscover>"""
    doc = parse_autodiscover(xml)
    assert [(s.protocol, s.port, s.tls) for s in doc.servers] == [
        ("imap", 143, "starttls"),
        ("pop3", 995, "implicit"),
        ("smtp", 587, "plain"),
    ]
    assert any("SPA is on" in p for p in doc.problems)  # absent SPA means on
    redirect = parse_autodiscover(
        b"<Autodiscover><Response><Account><Action>redirectAddr</Action>"
        b"<RedirectAddr>u@y.test</RedirectAddr></Account></Response></Autodiscover>"
    )
    assert (redirect.action, redirect.redirect) == ("redirectAddr", "u@y.test")
    error = parse_autodiscover(
        b"<Autodiscover><Response><Error><ErrorCode>600</ErrorCode>"
        b"<Message>Invalid Request</Message></Error></Response></Autodiscover>"
    )
    assert error.action == "error" and error.error == "600 Invalid Request"


def test_findings_neutralize_control_characters() -> None:
    f = Finding(
        "spf", "Sender authentication", "warn", "v=spf1 \x1b]0;pwned\x07 -all\nsecond", "line one\n\x1b[2Jline two"
    )
    assert "\x1b" not in f.summary and "\x07" not in f.summary and "\n" not in f.summary
    assert f.detail.split("\n")[1].startswith("␛[2J")
    with pytest.raises(ValueError):
        Finding("x", "Mail routing", "great", "no such status")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_record_parsers_never_raise(text: str) -> None:
    parse_spf(text)
    parse_tags(text)
    parse_dmarc(text)
    parse_dkim(text)
    parse_sts_policy(text)
    mailto_domain(text)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_xml_parsers_refuse_cleanly(data: bytes) -> None:
    for parse in (parse_autoconfig, parse_autodiscover):
        try:
            parse(data)
        except XmlRefused:
            pass


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 65535), st.integers(0, 65535), st.integers(0, 65535), st.text(min_size=1, max_size=10)
        ),
        max_size=8,
    )
)
def test_srv_order_keeps_every_record(records) -> None:
    ordered = srv_order(records)
    assert sorted((p, w, port, t) for p, w, port, t, _ in ordered) == sorted(records)
    assert [p for p, *_ in ordered] == sorted(p for p, *_ in ordered)


def test_local_dkim_selectors_from_opendkim_and_rspamd(tmp_path) -> None:
    from mailtui.dns.senders import local_dkim_selectors

    (tmp_path / "etc" / "opendkim").mkdir(parents=True)
    (tmp_path / "etc" / "rspamd" / "local.d").mkdir(parents=True)
    (tmp_path / "etc" / "opendkim.conf").write_text("Domain example.org\nSelector mail2026\n")
    (tmp_path / "etc" / "opendkim" / "KeyTable").write_text(
        "mail._domainkey.example.org example.org:mail:/etc/opendkim/keys/example.org/mail.private\n"
    )
    (tmp_path / "etc" / "rspamd" / "local.d" / "dkim_signing.conf").write_text('selector = "dkim";\npath = "x";\n')
    assert local_dkim_selectors(str(tmp_path)) == ["mail2026", "mail", "dkim"]
    assert local_dkim_selectors(str(tmp_path / "nothing")) == []


def test_a_trickling_server_cannot_hold_a_probe() -> None:
    """One byte every 0.2 s never trips the 0.5 s read timeout; the probe's own deadline ends it."""
    import socket
    import threading
    import time

    from mailtui.dns.probe import probe

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    stop = threading.Event()

    def trickle() -> None:
        conn, _ = srv.accept()
        try:
            while not stop.is_set():
                conn.sendall(b"2")
                time.sleep(0.2)
        except OSError:
            pass
        finally:
            conn.close()

    threading.Thread(target=trickle, daemon=True).start()
    try:
        result = probe("mail.example.test", "127.0.0.1", srv.getsockname()[1], "smtp", "starttls", timeout=0.5)
    finally:
        stop.set()
        srv.close()
    assert result.connected and result.error == "no complete answer in time"


_CERT_DER: list[bytes] = []


def _some_certificate() -> bytes:
    if not _CERT_DER:
        import trustme
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        pem = trustme.CA().issue_cert("mail.test").cert_chain_pems[0].bytes()
        _CERT_DER.append(x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER))
    return _CERT_DER[0]


@settings(max_examples=300, deadline=None)
@given(
    st.tuples(
        st.integers(-1, 256),
        st.integers(-1, 256),
        st.integers(-1, 256),
        st.text(max_size=140) | st.text("0123456789abcdefABCDEF", min_size=64, max_size=64),
    )
)
def test_tlsa_records_from_the_zone_never_raise(record) -> None:
    """TLSA fields come from DNS: any usage/selector/type/data is an answer, never an exception."""
    from mailtui.dns.transport import tlsa_matches

    assert tlsa_matches(_some_certificate(), record) in (True, False)


def test_tlsa_matches_the_right_digest_only() -> None:
    import hashlib

    from mailtui.dns.transport import tlsa_matches

    der = _some_certificate()
    digest = hashlib.sha256(der).hexdigest()
    assert tlsa_matches(der, (3, 0, 1, digest.upper()))
    assert not tlsa_matches(der, (3, 0, 1, digest[:-1] + ("0" if digest[-1] != "0" else "1")))
    assert not tlsa_matches(der, (2, 0, 1, digest))  # a CA usage cannot be shown by one certificate
