"""Mail appliances in containers (mailcow, docker-mailserver, Mailu), read through the engine's API.

The Docker Engine API on its Unix socket (podman's Docker-compatible service answers the same)
gives the containers' logs, lets us run ``postconf``/``doveconf`` inside them, and tells their
state. No Docker SDK: httpx speaks HTTP over the socket (``engine.py``), the log stream's
frames are split by ``frames.py``, ``appliances.py`` says which container is which, and
``follow.py`` follows the logs across restarts and re-creation. No Textual here.
"""
