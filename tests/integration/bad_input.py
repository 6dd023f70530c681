#!/usr/bin/env python3
"""Sends bad input to one listening port and checks the server answers each case by
closing that connection (after an error frame, where it can) instead of crashing.
Usage: bad_input.py HOST:PORT ROLE   (ROLE: the hello role this port expects)"""
import json
import random
import socket
import struct
import sys
import time

host, port = sys.argv[1].rsplit(":", 1)
role = sys.argv[2]
DEADLINE = 5.0
failures = 0


def frame(obj_or_bytes):
    body = obj_or_bytes if isinstance(obj_or_bytes, bytes) else json.dumps(obj_or_bytes).encode()
    return struct.pack(">I", len(body)) + body


def hello(r=role, version=2):
    return frame({"type": "hello", "role": r, "version": version, "id": "bad-input-test", "proof": ""})


def closed_by_server(payload, expect_error=True):
    """Sends payload; True if the server closes the connection within DEADLINE."""
    s = socket.create_connection((host, int(port)), timeout=DEADLINE)
    try:
        s.sendall(payload)
        end = time.time() + DEADLINE
        got = b""
        while time.time() < end:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                return True
            except socket.timeout:
                return False
            if not chunk:
                return (b'"error"' in got) or not expect_error
            got += chunk
        return False
    finally:
        s.close()


def case(name, payload, expect_error=True):
    global failures
    ok = closed_by_server(payload, expect_error)
    print(("ok   - " if ok else "FAIL - ") + f"{sys.argv[1]} {name}")
    failures += 0 if ok else 1


rng = random.Random(1234)
case("random bytes", bytes(rng.getrandbits(8) for _ in range(4096)), expect_error=False)
case("oversized frame header (4 GiB)", struct.pack(">I", 0xFFFFFFFF) + b"{}")
case("frame over the size limit (64 MiB)", struct.pack(">I", 64 << 20) + b"x" * 100)
case("invalid JSON", frame(b"{not json"))
case("JSON that is not an object", frame(b"[1,2,3]"))
case("unknown message type", frame({"type": "launch_missiles"}))
case("message before hello", frame({"type": "ping", "commit": 1}))
case("wrong role in hello", hello("definitely-not-a-role"))
case("wrong protocol version", hello(version=99))
case("invalid UTF-8 in a string",
     frame(b'{"type":"hello","role":"\xff\xfe","version":2,"id":"x","proof":""}'))
case("zero-length frame", struct.pack(">I", 0))
# A truncated frame followed by the client going away must not disturb the server.
s = socket.create_connection((host, int(port)))
s.sendall(struct.pack(">I", 100) + b'{"type":')
s.close()
print(f"{sys.argv[1]}: {11 - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
