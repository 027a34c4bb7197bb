#!/usr/bin/env python3
"""B1.4, scaled down from HTTP Garden: send each request-smuggling vector through a reverse
proxy (nginx from Debian, keep-alive to the upstream) in front of Frost. For every vector
either the proxy refuses it, or the proxy and Frost agree on how many requests there were:
Frost must not see more requests than the client got answers for, and the next normal request
on the proxy's pooled upstream connection must get its own answer (no desync).

usage: differential.py PROXY_PORT FROST_PORT"""
import re, socket, sys, time

proxy, frost = int(sys.argv[1]), int(sys.argv[2])
SMUGGLED = b"GET /trips/day_of_week?smuggled=1 HTTP/1.1\r\nHost: x\r\n\r\n"
POST = b"POST /trips/monthly HTTP/1.1\r\nHost: x\r\n"


def chunked(body):
    return POST + b"Transfer-Encoding: chunked\r\n\r\n" + body


VECTORS = {
    "CL then TE": POST + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "TE then CL": POST + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
    "TE gzip + CL": POST + b"Transfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello",
    "TE on HTTP/1.0": b"POST /trips/monthly HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "TE trailing space": POST + b"Transfer-Encoding: chunked \r\n\r\n0\r\n\r\n",
    "TE odd case": POST + b"tRANSFER-ENCODING: chunked\r\n\r\n0\r\n\r\n",
    "TE list": POST + b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
    "TE identity": POST + b"Transfer-Encoding: identity\r\n\r\n",
    "TE twice": POST + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n",
    "two different CL": POST + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    "two equal CL": POST + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    "CL +5": POST + b"Content-Length: +5\r\n\r\nhello",
    "CL 5,5": POST + b"Content-Length: 5,5\r\n\r\nhello",
    "CL 0x5": POST + b"Content-Length: 0x5\r\n\r\nhello",
    "CL 5abc": POST + b"Content-Length: 5abc\r\n\r\nhello",
    "chunk 0x1": chunked(b"0x1\r\nA\r\n0\r\n\r\n"),
    "chunk 1_0": chunked(b"1_0\r\n0123456789abcdef\r\n0\r\n\r\n"),
    "chunk leading space": chunked(b" 5\r\nhello\r\n0\r\n\r\n"),
    "chunk 5 0": chunked(b"5 0\r\nhello\r\n0\r\n\r\n"),
    "chunk 17 hex digits": chunked(b"00000000000000001\r\nA\r\n0\r\n\r\n"),
    "chunk 0x100000005": chunked(b"100000005\r\nhello\r\n0\r\n\r\n"),
    "chunk ext bare LF": chunked(b"5;a=b\nhello\r\n0\r\n\r\n"),
    "chunk longer than declared": chunked(b"3\r\nhello\r\n0\r\n\r\n"),
    "valid chunked body": chunked(b"5\r\nhello\r\n0\r\n\r\n"),
    "bare LF": b"GET /trips/monthly HTTP/1.1\nHost: x\n\n",
    "bare CR": b"GET /trips/monthly HTTP/1.1\r\nHost: x\rX-A: 1\r\n\r\n",
    "obs-fold": b"GET /trips/monthly HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n",
    "NUL in value": b"GET /trips/monthly HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n",
    "space before colon": b"GET /trips/monthly HTTP/1.1\r\nHost : x\r\n\r\n",
    "missing Host": b"GET /trips/monthly HTTP/1.1\r\nX-A: 1\r\n\r\n",
    "two Hosts": b"GET /trips/monthly HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
    "HTTP/1.2": b"GET /trips/monthly HTTP/1.2\r\nHost: x\r\n\r\n",
    "body on GET with CL": b"GET /trips/monthly HTTP/1.1\r\nHost: x\r\nContent-Length: " + str(len(SMUGGLED)).encode() + b"\r\n\r\n" + SMUGGLED,
}


def frost_count():
    s = socket.create_connection(("127.0.0.1", frost))
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
    total = 0
    for line in data.decode("latin-1").splitlines():
        m = re.match(r'frost_http_requests_total\{route="([^"]*)".*\} (\d+)$', line)
        if m and m.group(1) not in ("/metrics",):
            total += int(m.group(2))
    return total


def exchange(port, payload, quiet=1.0):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(payload)
    s.settimeout(quiet)
    data = b""
    try:
        while True:
            c = s.recv(65536)
            if not c:
                break
            data += c
    except socket.timeout:
        pass
    s.close()
    return data


def statuses(data):
    return [int(m.group(1)) for m in re.finditer(rb"(?:^|\r\n|\}|\])HTTP/1\.[01] (\d{3})", data)]


desyncs = refused = forwarded = 0
for name, vec in VECTORS.items():
    before = frost_count()
    got = statuses(exchange(proxy, vec + SMUGGLED))
    time.sleep(0.05)
    seen = frost_count() - before
    # A normal request through the proxy's pooled upstream connections: it must get its own answer.
    follow = exchange(proxy, b"GET /trips/monthly HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    follow_ok = statuses(follow)[:1] == [200] and b"\"result\":[[" in follow
    time.sleep(0.05)
    seen_after = frost_count() - before
    if seen == 0:
        refused += 1
        verdict = "proxy refused"
    else:
        forwarded += 1
        verdict = "forwarded"
    # Frost saw more requests than the client got answers for: something was smuggled.
    bad = seen > len(got) or not follow_ok or seen_after - seen != 1
    desyncs += bad
    print(f"{'DESYNC ' if bad else ''}{name}: client got {got}, Frost saw {seen} request(s); {verdict}; "
          f"follow-up {'ok' if follow_ok else 'WRONG'}")
print(f"{len(VECTORS)} vectors through the proxy: {refused} refused by it, {forwarded} forwarded, {desyncs} desyncs")
sys.exit(1 if desyncs else 0)
