"""mailtui: a terminal dashboard for Postfix + Dovecot + fail2ban mail servers.

The package is split by domain; only :mod:`mailtui.ui` imports Textual.
"""

__version__ = "0.1.0"
