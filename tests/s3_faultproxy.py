#!/usr/bin/env python3
"""s3_faultproxy.py - an HTTP proxy in front of moto_server for it_storage_s3.sh.

It forwards every request to the upstream S3 endpoint unchanged (Host
header included, so SigV4 signatures stay valid) and adds what moto cannot
do by itself:

  * faults on demand, for the retry tests: answer the next COUNT matching
    requests with an HTTP status and an S3 error body, or drop the
    connection without an answer, or hang without answering; or, to play
    a hostile S3, answer them 200 with a body given in full;
  * request counters, so a test can prove how many attempts were made;
  * a strict SigV4 check written from AWS's specification (not from curl
    or botocore): with a secret set, every request must carry a valid
    AWS4-HMAC-SHA256 signature computed the way S3 computes it on its
    side (path and query decoded and re-encoded, query sorted), and an
    x-amz-content-sha256 and Content-MD5 that match the body, as real S3
    checks and moto does not.

Control endpoints (never forwarded, never counted):
  POST /__proxy__/faults  JSON {"mode": "status"|"drop"|"hang"|"body", "count": N,
                                "status": 503, "code": "SlowDown", "body": "<xml...>" (mode body),
                                "method": "PUT" (optional), "path": "/b/k" (optional)}
  POST /__proxy__/verify  JSON {"secret": "..."} (empty string: off), or
                          {"keys": {"ACCESS_KEY": "SECRET", ...}}: only these keys are
                          known (others get 403 InvalidAccessKeyId), each with its secret
  POST /__proxy__/reset   counters and faults back to zero
  GET  /__proxy__/stats   JSON {"requests": N, "methods": {...}, "faults_left": N, "rejected": N,
                                "signed_tokens": N}

Python standard library only.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import http.server
import json
import socket
import sys
import threading
import time
import urllib.parse

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade", "te"}


class State:
    def __init__(self, upstream):
        self.lock = threading.Lock()
        self.upstream = urllib.parse.urlsplit(upstream)
        self.secret = ""
        self.keys = {}
        self.reset()

    def reset(self):
        self.requests = 0
        self.methods = {}
        self.faults = []  # dicts with a "count" that goes down
        self.rejected = 0
        self.signed_tokens = 0  # requests with an x-amz-security-token that the signature covers

    def take_fault(self, method, path):
        with self.lock:
            self.requests += 1
            self.methods[method] = self.methods.get(method, 0) + 1
            for f in self.faults:
                if f["count"] <= 0:
                    continue
                if f.get("method") and f["method"] != method:
                    continue
                if f.get("path") and f["path"] != path:
                    continue
                f["count"] -= 1
                return dict(f)
        return None


def s3_error_body(code, message):
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
        "<RequestId>faultproxy</RequestId></Error>" % (code, message)
    ).encode()


# ---------------------------------------------------------------------------
# SigV4 as the server side computes it (AWS "Signature Version 4 signing
# process", S3 flavour: the path is not double-encoded).
# ---------------------------------------------------------------------------

def uri_encode(s, keep_slash):
    return urllib.parse.quote(s, safe="/~" if keep_slash else "~")


def canonical_query(query):
    if not query:
        return ""
    pairs = []
    for item in query.split("&"):
        name, _, value = item.partition("=")
        name = uri_encode(urllib.parse.unquote(name), False)
        value = uri_encode(urllib.parse.unquote(value), False)
        pairs.append((name, value))
    pairs.sort()
    return "&".join("%s=%s" % p for p in pairs)


def verify_sigv4(secret, method, target, headers, body):
    """Return None when the request is signed right, else (status, code, message, detail)."""
    auth = headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return (403, "AccessDenied", "no AWS4-HMAC-SHA256 authorization", auth)
    fields = {}
    for part in auth[len("AWS4-HMAC-SHA256 "):].split(","):
        k, _, v = part.strip().partition("=")
        fields[k] = v
    try:
        credential = fields["Credential"]
        signed_headers = fields["SignedHeaders"]
        signature = fields["Signature"]
    except KeyError as missing:
        return (400, "AuthorizationHeaderMalformed", "missing %s" % missing, auth)
    scope = credential.split("/", 1)[1]
    amz_date = headers.get("x-amz-date", "")
    content_sha = headers.get("x-amz-content-sha256")
    if content_sha is None:
        return (400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256", "")
    if content_sha != "UNSIGNED-PAYLOAD" and content_sha != hashlib.sha256(body).hexdigest():
        return (400, "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.", content_sha)
    md5 = headers.get("content-md5")
    if md5 is not None and md5 != base64.b64encode(hashlib.md5(body).digest()).decode():
        return (400, "BadDigest", "The Content-MD5 you specified did not match what we received.", md5)
    if "expect" in signed_headers.split(";") and "expect" not in headers:
        return (403, "SignatureDoesNotMatch", "an Expect header was signed but not sent", signed_headers)
    path, _, query = target.partition("?")
    lines = [method, uri_encode(urllib.parse.unquote(path), True), canonical_query(query)]
    for name in signed_headers.split(";"):
        value = headers.get(name)
        if value is None:
            return (403, "SignatureDoesNotMatch", "signed header %s was not sent" % name, signed_headers)
        lines.append("%s:%s" % (name, " ".join(value.split())))
    lines.append("")
    lines.append(signed_headers)
    lines.append(content_sha)
    canonical = "\n".join(lines)
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    date, region, service, terminal = scope.split("/")
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, terminal):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return (403, "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
                "canonical request:\n" + canonical)
    return None


# ---------------------------------------------------------------------------
# The proxy
# ---------------------------------------------------------------------------

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None  # set in main

    def log_message(self, fmt, *args):
        pass

    def _reply(self, status, body, content_type="application/xml", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _control(self, body):
        st = self.state
        path = self.path.split("?", 1)[0]
        if path == "/__proxy__/stats":
            with st.lock:
                out = {"requests": st.requests, "methods": st.methods,
                       "faults_left": sum(max(f["count"], 0) for f in st.faults), "rejected": st.rejected,
                       "signed_tokens": st.signed_tokens}
            return self._reply(200, json.dumps(out).encode(), "application/json")
        if path == "/__proxy__/reset":
            with st.lock:
                st.reset()
            return self._reply(200, b"{}", "application/json")
        if path == "/__proxy__/faults":
            f = json.loads(body or b"{}")
            f.setdefault("mode", "status")
            f.setdefault("count", 1)
            f.setdefault("status", 503)
            f.setdefault("code", {500: "InternalError", 503: "SlowDown", 429: "TooManyRequests"}
                         .get(f["status"], "Injected"))
            with st.lock:
                st.faults.append(f)
            return self._reply(200, b"{}", "application/json")
        if path == "/__proxy__/verify":
            with st.lock:
                conf = json.loads(body or b"{}")
                st.secret = conf.get("secret", "")
                st.keys = conf.get("keys", {})
            return self._reply(200, b"{}", "application/json")
        return self._reply(404, b"unknown control path", "text/plain")

    def _handle(self):
        body = self._read_body()
        if self.path.startswith("/__proxy__/"):
            return self._control(body)
        st = self.state
        fault = st.take_fault(self.command, self.path.split("?", 1)[0])
        if fault is not None:
            if fault["mode"] == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return None
            if fault["mode"] == "hang":
                time.sleep(float(fault.get("seconds", 3)))
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return None
            if fault["mode"] == "body":
                return self._reply(200, fault["body"].encode())
            return self._reply(fault["status"], s3_error_body(fault["code"], "injected by s3_faultproxy"))
        with st.lock:
            secret, keys = st.secret, dict(st.keys)
        headers = {k.lower(): v for k, v in self.headers.items()}
        if keys:
            access_key = headers.get("authorization", "").partition("Credential=")[2].split("/", 1)[0]
            secret = keys.get(access_key)
            if secret is None:
                with st.lock:
                    st.rejected += 1
                return self._reply(403, s3_error_body("InvalidAccessKeyId",
                                                      "The AWS Access Key Id you provided does not exist in our records."))
        if secret:
            bad = verify_sigv4(secret, self.command, self.path, headers, body)
            if bad is not None:
                status, code, message, detail = bad
                with st.lock:
                    st.rejected += 1
                print("s3_faultproxy: %s %s rejected: %s %s\n%s" % (self.command, self.path, code, message, detail),
                      file=sys.stderr, flush=True)
                return self._reply(status, s3_error_body(code, message))
            if "x-amz-security-token" in headers and "x-amz-security-token" in headers["authorization"]:
                with st.lock:
                    st.signed_tokens += 1
        up = st.upstream
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in HOP_BY_HOP and k.lower() != "expect"}
            conn.request(self.command, self.path, body=body if body or self.command in ("PUT", "POST") else None,
                         headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() in HOP_BY_HOP or k.lower() == "content-length":
                    continue
                self.send_header(k, v)
            if self.command == "HEAD":
                self.send_header("Content-Length", resp.getheader("Content-Length", "0"))
            else:
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        finally:
            conn.close()
        return None

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream", required=True, help="http://127.0.0.1:PORT of moto_server")
    args = ap.parse_args()
    Handler.state = State(args.upstream)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
