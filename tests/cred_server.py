#!/usr/bin/env python3
"""cred_server.py - the AWS container credentials endpoint and EC2 instance
metadata (IMDSv2), on loopback, for it_s3_creds.sh.

It hands out whatever keys the test gives it, with an Expiration the test
chooses, and checks what a real endpoint checks:

  * container (ECS, EKS Pod Identity): GET /creds (any path under it);
    when an authorization token is configured, the Authorization header
    must equal it (401 otherwise);
  * IMDSv2: PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds
    (1..21600, 400 otherwise) gives a session token; every GET must carry
    it in X-aws-ec2-metadata-token (401 otherwise: no IMDSv1). A token is
    refused once older than token_ttl seconds (the test's choice, to make
    tokens lapse quickly);
    GET /latest/meta-data/iam/security-credentials/ names the role,
    GET /latest/meta-data/iam/security-credentials/ROLE gives its keys.

Control (never counted):
  POST /__control__/config  JSON, merged: {"container": [AK, SK, TOKEN|null],
        "imds": [AK, SK, TOKEN|null], "expires_in": S, "auth_token": "..."|null,
        "token_ttl": S, "fail_container": STATUS|0, "fail_imds": STATUS|0, "role": "NAME"}
  GET  /__control__/stats   JSON counters: container, auth_rejected, imds_token,
        imds_401, imds_role, imds_creds, ttl_asked (the last TTL header)

Python standard library only.
"""

import argparse
import datetime
import http.server
import json
import secrets
import threading
import time


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.config = {"container": None, "imds": None, "expires_in": 3600, "auth_token": None,
                       "token_ttl": 21600, "fail_container": 0, "fail_imds": 0, "role": "aofroll-role"}
        self.stats = {"container": 0, "auth_rejected": 0, "imds_token": 0, "imds_401": 0, "imds_role": 0,
                      "imds_creds": 0, "ttl_asked": None}
        self.tokens = {}  # token -> issue time

    def count(self, name):
        with self.lock:
            self.stats[name] += 1


def creds_json(keys, expires_in, imds):
    ak, sk, token = keys
    expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=expires_in)
    doc = {"AccessKeyId": ak, "SecretAccessKey": sk,
           "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if token:
        doc["Token"] = token
    if imds:
        doc = dict({"Code": "Success", "LastUpdated": "2026-01-01T00:00:00Z", "Type": "AWS-HMAC"}, **doc)
    else:
        doc["RoleArn"] = "arn:aws:iam::123456789012:role/aofroll-task"
    return json.dumps(doc, indent=2).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=b"", ctype="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def do_POST(self):
        st = self.state
        data = self.body()
        if self.path == "/__control__/config":
            with st.lock:
                st.config.update(json.loads(data or b"{}"))
            return self.reply(200, b"{}", "application/json")
        return self.reply(404)

    def do_PUT(self):
        st = self.state
        self.body()
        if self.path != "/latest/api/token":
            return self.reply(404)
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        with st.lock:
            st.stats["ttl_asked"] = ttl
            fail = st.config["fail_imds"]
        if fail:
            return self.reply(fail, b"failing on purpose")
        if ttl is None or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self.reply(400, b"missing or bad token TTL")
        token = secrets.token_urlsafe(32)
        with st.lock:
            st.tokens[token] = time.time()
        st.count("imds_token")
        return self.reply(200, token.encode())

    def do_GET(self):
        st = self.state
        path = self.path
        if path == "/__control__/stats":
            with st.lock:
                return self.reply(200, json.dumps(st.stats).encode(), "application/json")
        with st.lock:
            cfg = dict(st.config)
        if path.startswith("/creds"):
            st.count("container")
            if cfg["fail_container"]:
                return self.reply(cfg["fail_container"], b"failing on purpose")
            if cfg["auth_token"] is not None and self.headers.get("Authorization") != cfg["auth_token"]:
                st.count("auth_rejected")
                return self.reply(401, b"bad authorization token")
            return self.reply(200, creds_json(cfg["container"], cfg["expires_in"], False), "application/json")
        if path.startswith("/latest/meta-data/"):
            token = self.headers.get("X-aws-ec2-metadata-token")
            with st.lock:
                issued = st.tokens.get(token)
            if issued is None or time.time() - issued > cfg["token_ttl"]:
                st.count("imds_401")
                return self.reply(401)
            if cfg["fail_imds"]:
                return self.reply(cfg["fail_imds"], b"failing on purpose")
            base = "/latest/meta-data/iam/security-credentials/"
            if path == base:
                st.count("imds_role")
                return self.reply(200, cfg["role"].encode())
            if path == base + cfg["role"]:
                st.count("imds_creds")
                return self.reply(200, creds_json(cfg["imds"], cfg["expires_in"], True), "text/plain")
        return self.reply(404)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    Handler.state = State()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
