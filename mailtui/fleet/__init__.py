"""Many mail hosts in one dashboard: an agent on each host, spoken to over the user's own SSH.

``agent.py`` runs on a mail host (``mailtui agent --stdio``) and streams what the local
collectors produce as JSON lines; ``protocol.py`` is the versioned message schema both ends
check; ``link.py`` is the dashboard's end: one ``ssh`` per host, reconnecting with backoff and
resuming each log where it stopped. No open port and no new credentials: SSH is the transport.
"""
