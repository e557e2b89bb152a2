"""Readers for the live configuration of Postfix (postconf) and Dovecot (doveconf)."""
