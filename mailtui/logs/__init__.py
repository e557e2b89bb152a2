"""Log sources (files, journald, stdin), line parsing, sanitising and merging."""
