#!/usr/bin/env python3
"""B3.8: open N idle TCP connections (no bytes) to 127.0.0.1:PORT; report how many the server
closed at once (over max_connections) and when it closed the idle ones it kept."""
import selectors, socket, sys, time

port, count = int(sys.argv[1]), int(sys.argv[2])
sel = selectors.DefaultSelector()
opened = {}
start = time.monotonic()
for i in range(count):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    opened[s] = time.monotonic()
    sel.register(s, selectors.EVENT_READ)
done = time.monotonic()
closed_at = []
deadline = time.monotonic() + 30
while opened and time.monotonic() < deadline:
    for key, _ in sel.select(timeout=0.5):
        s = key.fileobj
        try:
            data = s.recv(1)
        except OSError:
            data = b""
        if not data:
            closed_at.append(time.monotonic() - opened.pop(s))
            sel.unregister(s)
            s.close()
at_once = sum(1 for t in closed_at if t < 1.0)
kept = [t for t in closed_at if t >= 1.0]
print(f"opened {count} in {done - start:.1f}s; closed at once {at_once}; idle ones closed after "
      f"{min(kept) if kept else 0:.1f}-{max(kept) if kept else 0:.1f}s ({len(kept)}); still open after 30s: {len(opened)}")
