"""NSD serving the corpus zones plus the rig's own zones on loopback.

Two listeners: ``127.0.0.1@<high port>`` for mailtui's DNS checks, and
``127.0.0.153@53`` because the C resolver inside the daemons' mount namespace (see
``namespace.py``) can only be pointed at port 53. The rig zones make HELO and reverse
lookups of the daemons deterministic and keep every query on loopback:
``rig.test`` (the rig's own names), ``invalid`` (authoritative NXDOMAIN for HELO names
that must not resolve) and ``127.in-addr.arpa`` (PTRs for the client addresses).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import CORPUS, corpus_available, corpus_dir, corpus_required
from tests.rig.base import free_port, need_daemon, stop_process, wait_for

RESOLVER_IP = "127.0.0.153"
CORPUS_ZONES = {
    "example.test": "example.test.zone",
    "test": "test.zone",
    "2.0.192.in-addr.arpa": "2.0.192.in-addr.arpa.zone",
}

SOA = "@ IN SOA ns1.rig.test. hostmaster.rig.test. ( 1 3600 900 1209600 300 )\n@ IN NS ns1.rig.test.\n"

RIG_ZONES = {
    "rig.test": (
        "$ORIGIN rig.test.\n$TTL 300\n" + SOA + "ns1 IN A 127.0.0.153\n"
        "@ IN MX 10 mail.rig.test.\n"
        "mail IN A 127.0.0.1\n"
        "client IN A 127.0.0.3\n"
        "clienthostname IN A 127.0.0.2\n"
    ),
    "invalid": "$ORIGIN invalid.\n$TTL 300\n" + SOA,
    # 127.0.0.1 is mail.rig.test; 127.0.0.2 has a PTR whose name is non-FQDN-looking in HELO
    # tests; 127.0.0.3 is forward-confirmed; 127.0.0.4 has no PTR at all.
    "127.in-addr.arpa": (
        "$ORIGIN 127.in-addr.arpa.\n$TTL 300\n" + SOA + "1.0.0 IN PTR mail.rig.test.\n"
        "2.0.0 IN PTR clienthostname.rig.test.\n"
        "3.0.0 IN PTR client.rig.test.\n"
    ),
}

CONF = """\
server:
    ip-address: 127.0.0.1@{port}
{extra_listen}    do-ip6: no
    username: ""
    chroot: ""
    zonesdir: "{dir}"
    database: ""
    zonelistfile: "{dir}/zone.list"
    xfrdfile: "{dir}/xfrd.state"
    xfrdir: "{dir}"
    pidfile: "{dir}/nsd.pid"
    logfile: "{dir}/nsd.log"
    verbosity: 1
remote-control:
    control-enable: no
"""


@dataclass
class Nsd:
    dir: Path
    port: int
    proc: subprocess.Popen

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        stop_process(self.proc)


def _answers(port: int) -> bool:
    import dns.exception
    import dns.message
    import dns.query

    try:
        dns.query.udp(dns.message.make_query("nonexistent.invalid.", "SOA"), "127.0.0.1", timeout=0.5, port=port)
        return True
    except (OSError, dns.exception.DNSException):
        return False


def start_nsd(
    dir: Path, zones: dict[str, str] | None = None, resolver_ip: str | None = RESOLVER_IP, corpus: bool = True
) -> Nsd:
    """The rig's NSD; ``zones`` (name -> zone text) replace the rig zones (the DNS lab's own),
    and ``resolver_ip=None`` leaves port 53 alone so it can run beside the rig's."""
    exe = need_daemon("nsd")
    dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    extra = f"    ip-address: {resolver_ip}@53\n" if resolver_ip else ""
    conf = CONF.format(dir=dir, port=port, extra_listen=extra)
    # without ../shared the zones are left out (tests that use them take the corpus fixture);
    # corpus_dir() fails the rig when MAILTUI_REQUIRE_CORPUS=1 and the corpus is missing
    if corpus and not corpus_available():
        if corpus_required():
            corpus_dir()  # the one-line failure
        corpus = False
    for name, filename in CORPUS_ZONES.items() if corpus else ():
        (dir / filename).write_bytes((CORPUS / "zones" / filename).read_bytes())
        conf += f'zone:\n    name: "{name}"\n    zonefile: "{filename}"\n'
    for name, text in (RIG_ZONES if zones is None else zones).items():
        (dir / f"{name}.zone").write_text(text)
        conf += f'zone:\n    name: "{name}"\n    zonefile: "{name}.zone"\n'
    (dir / "nsd.conf").write_text(conf)
    with open(dir / "nsd.err", "wb") as err:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [exe, "-d", "-c", str(dir / "nsd.conf")], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
        )
    nsd = Nsd(dir, port, proc)
    try:
        wait_for(lambda: proc.poll() is not None or _answers(port), 15, what="NSD to answer")
        if proc.poll() is not None:
            raise RuntimeError("nsd exited: " + (dir / "nsd.err").read_text()[-800:])
    except Exception:
        nsd.stop()
        raise
    return nsd
