"""Exit 0 when a Redis server answers PING at 127.0.0.1:6379 (used by `make test`)."""

import socket
import sys

try:
    with socket.create_connection(("127.0.0.1", 6379), timeout=2) as conn:
        conn.sendall(b"PING\r\n")
        if not conn.recv(16).startswith(b"+PONG"):
            sys.exit(1)
except OSError:
    sys.exit(1)
