"""DNS and autoconfig checks: what mail clients and other MTAs look up, and whether it is true."""
