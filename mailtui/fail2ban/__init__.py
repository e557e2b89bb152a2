"""fail2ban: talk to fail2ban-server over its socket (safely), or read its log when that is not possible."""
