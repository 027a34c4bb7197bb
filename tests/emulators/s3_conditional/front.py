#!/usr/bin/env python3
"""A front for an S3 emulator that does what s3rver does not (tests/emulators/s3/README.md):

- checks every request's SigV4 signature (AWS4-HMAC-SHA256, header form) with one known key
  pair, and that `x-amz-content-sha256` matches the body: 403 SignatureDoesNotMatch otherwise;
- honours conditional writes as S3 does since 2024: PUT with `If-None-Match: *` fails with 412
  when the object exists, PUT with `If-Match: <etag>` fails with 412 unless the ETag matches;
  conditional GETs answer 304. Each conditional PUT is checked and forwarded under one lock, so
  two racing writers see S3's atomic behaviour.
- fault injection for tests: `POST /__front/down` answers 503 SlowDown to everything until
  `POST /__front/up`; `GET /__front/log` lists the requests seen (method, path, status).

Usage: front.py --backend http://127.0.0.1:PORT --key-id ID --secret SECRET [--port 0] [--port-file F]
Prints "front listening on 127.0.0.1:<port>" once ready. Written from AWS's SigV4 documentation.
"""
import argparse
import hashlib
import hmac
import http.client
import http.server
import json
import sys
import threading
import urllib.parse

ARGS = None
LOCK = threading.Lock()  # conditional PUTs: check and write as one step
LOG_LOCK = threading.Lock()
STATE = {"down": False, "log": []}


def sign(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def canonical_query(query):
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    enc = lambda s: urllib.parse.quote(s, safe="-_.~")
    return "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(pairs))


def check_signature(handler, body):
    """None when the request is signed with our key, else the reason."""
    auth = handler.headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "no AWS4-HMAC-SHA256 Authorization header"
    fields = {}
    for part in auth[len("AWS4-HMAC-SHA256 "):].split(","):
        k, _, v = part.strip().partition("=")
        fields[k] = v
    try:
        key_id, date, region, service, terminal = fields["Credential"].split("/")
        signed_headers = fields["SignedHeaders"]
        signature = fields["Signature"]
    except (KeyError, ValueError):
        return "malformed Authorization header"
    if key_id != ARGS.key_id:
        return "unknown access key id"
    if service != "s3" or terminal != "aws4_request":
        return "wrong credential scope"
    payload = handler.headers.get("x-amz-content-sha256")
    if payload is None:
        return "missing x-amz-content-sha256"
    if payload != "UNSIGNED-PAYLOAD" and payload != hashlib.sha256(body).hexdigest():
        return "x-amz-content-sha256 does not match the body"
    amz_date = handler.headers.get("x-amz-date", "")
    path, _, query = handler.path.partition("?")
    names = signed_headers.split(";")
    if "host" not in names:
        return "host is not signed"
    canon_headers = "".join(f"{n}:{' '.join((handler.headers.get(n) or '').split())}\n" for n in names)
    canonical = "\n".join([handler.command, path, canonical_query(query), canon_headers, signed_headers, payload])
    scope = f"{date}/{region}/{service}/{terminal}"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = sign(("AWS4" + ARGS.secret).encode(), date)
    k = sign(k, region)
    k = sign(k, service)
    k = sign(k, "aws4_request")
    expected = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "signature does not match"
    token = handler.headers.get("x-amz-security-token")
    if ARGS.session_token and token != ARGS.session_token:
        return "wrong or missing x-amz-security-token"
    return None


def backend(method, path, headers=None, body=None):
    u = urllib.parse.urlparse(ARGS.backend)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data
    finally:
        conn.close()


def error_xml(code, message):
    return f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'.encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            if k in ("transfer-encoding", "connection", "content-length"):
                continue
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)) if self.command != "HEAD" else (headers or {}).get("content-length", "0"))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        with LOG_LOCK:
            STATE["log"].append({"method": self.command, "path": self.path, "status": status})

    def control(self):
        if self.path == "/__front/down":
            STATE["down"] = True
        elif self.path == "/__front/up":
            STATE["down"] = False
        elif self.path == "/__front/log":
            with LOG_LOCK:
                body = json.dumps(STATE["log"]).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith("/__front/"):
            return self.control()
        if STATE["down"]:
            return self.reply(503, error_xml("SlowDown", "Please reduce your request rate."))
        problem = check_signature(self, body)
        if problem:
            return self.reply(403, error_xml("SignatureDoesNotMatch", problem))
        path = self.path.partition("?")[0]
        # Checked here; s3rver gets anonymous requests (it knows only its own S3RVER key id).
        dropped = ("if-match", "if-none-match", "expect", "authorization", "x-amz-security-token")
        fwd = {k: v for k, v in self.headers.items() if k.lower() not in dropped}
        if self.command == "PUT" and ("If-Match" in self.headers or "If-None-Match" in self.headers):
            with LOCK:  # check and write as one step, as S3 does
                status, headers, _ = backend("HEAD", path)
                exists = status == 200
                etag = headers.get("etag")
                if self.headers.get("If-None-Match") == "*" and exists:
                    return self.reply(412, error_xml("PreconditionFailed", "At least one of the pre-conditions you specified did not hold"))
                im = self.headers.get("If-Match")
                if im is not None and (not exists or im != etag):
                    return self.reply(412, error_xml("PreconditionFailed", "At least one of the pre-conditions you specified did not hold"))
                status, headers, data = backend("PUT", self.path, fwd, body)
            return self.reply(status, data, headers)
        if self.command in ("GET", "HEAD") and "If-None-Match" in self.headers:
            status, headers, _ = backend("HEAD", path)
            if status == 200 and headers.get("etag") == self.headers.get("If-None-Match"):
                return self.reply(304, b"", {"etag": headers.get("etag")})
        status, headers, data = backend(self.command, self.path, fwd, body if self.command in ("PUT", "POST") else None)
        return self.reply(status, data, headers)

    do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = handle_any


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--backend", required=True)
    p.add_argument("--key-id", required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--session-token", default="")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    ARGS = p.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    port = server.server_address[1]
    if ARGS.port_file:
        with open(ARGS.port_file + ".tmp", "w") as f:
            f.write(str(port))
        import os
        os.rename(ARGS.port_file + ".tmp", ARGS.port_file)
    print(f"front listening on 127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
