#!/usr/bin/env python3
"""An independent implementation of the handshake of docs/PROTOCOL.md ("Authentication"):
reads the challenge, answers hello with proof = hex(HMAC-SHA256(secret, nonce "\\n" role
"\\n" id)), then asks for status. Prints what the server answered: "welcome <status JSON>"
or "error <code>: <message>". Exit 0 after a welcome, 1 after an error or a close.
Usage: auth_probe.py HOST:PORT ROLE ID SECRET"""
import hashlib
import hmac
import json
import socket
import struct
import sys

host, port = sys.argv[1].rsplit(":", 1)
role, ident, secret = sys.argv[2], sys.argv[3], sys.argv[4]
VERSION = 3


def send(s, obj):
    body = json.dumps(obj).encode()
    s.sendall(struct.pack(">I", len(body)) + body)


def recv(s):
    def exactly(n):
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf
    header = exactly(4)
    if header is None:
        return None
    body = exactly(struct.unpack(">I", header)[0])
    return None if body is None else json.loads(body)


s = socket.create_connection((host, int(port)), timeout=10)
challenge = recv(s)
if challenge is None or challenge.get("type") != "challenge":
    print("no challenge:", challenge)
    sys.exit(1)
nonce = challenge["nonce"]
data = (nonce + "\n" + role + "\n" + ident).encode()
proof = hmac.new(secret.encode(), data, hashlib.sha256).hexdigest() if secret else ""
send(s, {"type": "hello", "role": role, "version": VERSION, "id": ident, "proof": proof})
send(s, {"type": "status_request"})
answer = recv(s)
if answer is None:
    print("closed")
    sys.exit(1)
if answer["type"] == "error":
    print("error %s: %s" % (answer["code"], answer.get("message", "")))
    closed = recv(s) is None
    print("closed" if closed else "NOT closed")
    sys.exit(1)
status = recv(s)
print(answer["type"], json.dumps(status.get("body") if status else None))
sys.exit(0 if answer["type"] == "welcome" else 1)
