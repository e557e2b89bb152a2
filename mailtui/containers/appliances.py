"""Which running containers make up a mail appliance, and what each one does.

mailcow-dockerized names its compose services ``postfix-mailcow``, ``dovecot-mailcow``, ...;
docker-mailserver is one container (its image says so, its compose service is usually
``mailserver``); Mailu's services have generic names (``smtp``, ``imap``) so its images
(``mailu/postfix``, ...) decide. A configured list (``[containers] names``) overrides the guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailtui.containers.engine import Container

#: role -> what it means for mailtui
ROLES = ("postfix", "dovecot", "fail2ban", "rspamd", "netfilter", "front", "antivirus")

#: (appliance, compose service label) -> roles; checked first
BY_SERVICE: dict[str, tuple[str, tuple[str, ...]]] = {
    "postfix-mailcow": ("mailcow", ("postfix",)),
    "dovecot-mailcow": ("mailcow", ("dovecot",)),
    "rspamd-mailcow": ("mailcow", ("rspamd",)),
    "netfilter-mailcow": ("mailcow", ("netfilter",)),
    "nginx-mailcow": ("mailcow", ("front",)),
    "clamd-mailcow": ("mailcow", ("antivirus",)),
}

#: (a fragment of the image name) -> appliance and roles; for appliances with generic service names
BY_IMAGE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("docker-mailserver", "docker-mailserver", ("postfix", "dovecot", "fail2ban")),
    ("mailu/postfix", "mailu", ("postfix",)),
    ("mailu/dovecot", "mailu", ("dovecot",)),
    ("mailu/rspamd", "mailu", ("rspamd",)),
    ("mailu/nginx", "mailu", ("front",)),
    ("mailu/clamav", "mailu", ("antivirus",)),
)


@dataclass
class MailContainer:
    container: Container
    appliance: str
    roles: tuple[str, ...]

    @property
    def key(self) -> str:
        """What identifies "the same" container across re-creation: project + service, else name."""
        c = self.container
        return f"{c.project}/{c.service}" if c.service else c.name


@dataclass
class Detection:
    containers: list[MailContainer] = field(default_factory=list)

    @property
    def appliance(self) -> str:
        kinds = sorted({m.appliance for m in self.containers})
        return ", ".join(kinds)

    def with_role(self, role: str) -> list[MailContainer]:
        return [m for m in self.containers if role in m.roles]


def classify(c: Container, names: dict[str, tuple[str, ...]] | None = None) -> MailContainer | None:
    """This container's appliance and roles, or None when it is not part of a mail appliance.

    ``names`` (from the configuration) maps a container name or compose service to roles and
    wins over the built-in guess.
    """
    if names:
        for wanted, roles in names.items():
            if wanted in (c.name, c.service):
                return MailContainer(c, "configured", roles)
        return None
    known = BY_SERVICE.get(c.service)
    if known is not None:
        return MailContainer(c, known[0], known[1])
    image = c.image.lower()
    for fragment, appliance, roles in BY_IMAGE:
        if fragment in image:
            return MailContainer(c, appliance, roles)
    return None


def detect(containers: list[Container], names: dict[str, tuple[str, ...]] | None = None) -> Detection:
    """The mail containers among these; of several with the same key, the newest (re-created) wins."""
    found: dict[str, MailContainer] = {}
    for c in containers:
        m = classify(c, names)
        if m is None:
            continue
        old = found.get(m.key)
        if old is None or (c.state == "running", c.created) > (old.container.state == "running", old.container.created):
            found[m.key] = m
    return Detection(sorted(found.values(), key=lambda m: (m.appliance, m.container.name)))
