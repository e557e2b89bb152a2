"""The machine and its mail daemons: versions, processes, listening ports, queue, disk."""
