#!/usr/bin/env bash
# Install the real mail daemons the test rig drives (Debian/Ubuntu, as root).
# Non-interactive: Postfix is preseeded to "No configuration" so that the package
# leaves the machine's own /etc/postfix alone; the tests build their own configs.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -ne 0 ]; then
    echo "install-daemons: run as root (apt-get install needs it)" >&2
    exit 1
fi
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "postfix postfix/mailname string rig.mailtui.test" | debconf-set-selections
PKGS=(postfix dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd fail2ban rsyslog nsd
      systemd-journal-remote openssl pflogsumm sqlite3 iproute2 tmux procps
      openssh-server openssh-client)   # the fleet tests: a real sshd on loopback (tests/sshlab.py)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    # policy-rc.d 101: packages must not try to start services (no init system here).
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
    rm -f /usr/sbin/policy-rc.d
fi
echo "install-daemons: all packages present"
