"""The real-daemon test rig: Postfix, Dovecot, fail2ban, rsyslog and NSD in temporary directories.

Each daemon module starts its daemon on loopback with a configuration written into a
temporary directory and leaves the machine's own configuration alone. ``fixtures.py``
exposes them to pytest; ``scenarios.py`` reproduces real failures; ``capture.py``
refreshes ``tests/data`` with the lines the daemons wrote.
"""
