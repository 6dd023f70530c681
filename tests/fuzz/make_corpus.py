#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets: tests/fuzz/corpus/<target>/<name>.

Small, meaningful inputs: valid messages of every type, frame streams, RESP commands as
redis-cli and telnet send them, logs with records and torn tails, snapshots, and the
config files of the three programs. Input layouts are described in each fuzz_*.cc.
Run it again after changing it; files libFuzzer found (crash-*, named by their hash)
are kept, since only the files named here are rewritten.
"""
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


# The independent Python reader of the log format owns the one Python CRC32C.
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from read_data_dir import crc32c  # noqa: E402


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def js(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


ENTRY = {"lsn": 7, "key": "k", "value": "v"}
MESSAGES = {
    "hello": {"type": "hello", "role": "client", "version": 1, "id": "c1", "token": ""},
    "hello_storage": {"type": "hello", "role": "storage", "version": 1, "id": "s1", "token": "t"},
    "welcome": {"type": "welcome", "id": "frontend"},
    "error": {"type": "error", "code": "bad_frame", "message": "invalid JSON at byte 3"},
    "request_get": {"type": "request", "seq": 1, "op": "get", "key": "k", "value": "",
                    "done_below": 1},
    "request_put": {"type": "request", "seq": 2, "op": "put", "key": "k\u00e9",
                    "value": "line\nbreak \"q\"", "done_below": 1},
    "response": {"type": "response", "seq": 1, "status": "not_found", "value": "", "detail": ""},
    "join": {"type": "join", "complete": 18446744073709551615},
    "join_state": {"type": "join_state", "state": "catching_up", "detail": "from s2"},
    "write": {"type": "write", "entry": ENTRY, "commit": 6},
    "ping": {"type": "ping", "commit": 0},
    "ack": {"type": "ack", "complete": 7},
    "read": {"type": "read", "req": 3, "key": "k", "at": 7},
    "read_reply": {"type": "read_reply", "req": 3, "found": True, "value": "v", "lsn": 7},
    "catchup_fetch": {"type": "catchup_fetch", "req": 4, "after": 0, "cursor": "",
                      "max_bytes": 262144},
    "catchup_chunk": {"type": "catchup_chunk", "req": 4,
                      "entries": [ENTRY, {"lsn": 9, "key": "z", "value": ""}],
                      "cursor": "z", "done": True, "upto": 9},
    "catchup_applied": {"type": "catchup_applied", "req": 4},
    "status_request": {"type": "status_request"},
    "status_reply": {"type": "status_reply",
                     "body": {"role": "storage", "complete": 7, "lag": 0.25, "peers": [1, None]}},
}


def frame(text: str) -> bytes:
    body = text.encode()
    return struct.pack(">I", len(body)) + body


def messages():
    for name, m in MESSAGES.items():
        if name != "hello_storage":  # framed in the frame corpus
            write("message", name, js(m))
    # Another spelling of the same message: field order, spaces, escapes.
    write("message", "spelling", '{ "commit" : 6, "entry" : {"value":"\\u0076","key":"k",'
                                 '"lsn":7}, "type" : "write" }')
    write("message", "bad_type", '{"type":"nope"}')


def frames():
    # Byte 0: how the stream is cut; byte 1: frame limit and reader mode.
    hello = frame(js(MESSAGES["hello"]))
    put = frame(js(MESSAGES["request_put"]))
    get = frame(js(MESSAGES["request_get"]))
    write("frame", "one_hello", b"\x00\x00" + hello)
    write("frame", "client_session", b"\x01\x00" + hello + put + get)
    write("frame", "storage_session", b"\x02\x04" + frame(js(MESSAGES["hello_storage"])) +
          frame(js(MESSAGES["join"])) + frame(js(MESSAGES["ack"])) +
          frame(js(MESSAGES["catchup_chunk"])))
    write("frame", "halves", b"\x07\x00" + frame(js(MESSAGES["write"])) +
          frame(js(MESSAGES["status_reply"])))
    write("frame", "partial_tail", b"\x05\x00" + hello + put[:9])
    write("frame", "bad_json", b"\x02\x00" + hello + frame("{not json") + get)
    write("frame", "empty_frame", b"\x01\x00" + hello + b"\x00\x00\x00\x00")
    write("frame", "over_limit", b"\x01\x01" + frame(js(MESSAGES["ping"])) + put)
    write("frame", "huge_header", b"\x03\x00\xff\xff\xff\xff{")


def resp():
    # Byte 0: how the stream is cut; byte 1: bit 0 tiny limits, bit 1 AUTH required,
    # bit 2 at most 2 replies owed.
    def arr(*args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        return out
    write("resp", "set_get", b"\x00\x00" + arr("SET", "k", "v") + arr("GET", "k"))
    write("resp", "redis_cli_hello", b"\x01\x00" + arr("COMMAND", "DOCS") + arr("PING") +
          arr("CLIENT", "SETNAME", "x") + arr("SELECT", "0") + arr("INFO"))
    write("resp", "inline", b"\x02\x00" + b"PING\r\nSET k \"a\\x41\\n\" \r\nGET 'k'\nQUIT\r\n")
    write("resp", "auth", b"\x03\x02" + arr("AUTH", "secret") + arr("GET", "k") +
          arr("QUIT"))
    write("resp", "pipeline", b"\x01\x04" + arr("SET", "a", "1") * 3 + arr("GET", "a") * 3)
    write("resp", "binary_value", b"\x02\x00" + arr("SET", "k", b"\x00\xff\r\n") +
          arr("CONFIG", "GET", "maxmemory"))
    write("resp", "bad_bulk_len", b"\x00\x00" + b"*1\r\n$-5\r\nPING\r\n")
    write("resp", "tiny_limits", b"\x01\x01" + arr("GET", "0123456789") + b"PING\r\n")
    write("resp", "unbalanced", b"\x02\x00" + b"SET \"k v\r\n")
    write("resp", "empty_and_blank", b"\x00\x00" + b"*0\r\n\r\n*-1\r\n" + arr("ECHO", ""))
    write("resp", "long_header", b"\x00\x01" + b"*" + b"1" * 30 + b"\r\n")


def wal_line(payload) -> bytes:
    p = js(payload).encode()
    return b"%08x " % crc32c(p) + p + b"\n"


def put(lsn, k, v):
    return wal_line({"t": "put", "lsn": lsn, "k": k, "v": v})


def mark(n):
    return wal_line({"t": "mark", "complete": n})


def end(n, first_log=1):
    return wal_line({"t": "end", "records": n, "first_log": first_log})


def wal():
    # Byte 0: bit 0 fix checksums, bit 1 recover with a snapshot, bits 2..7 the split.
    log = put(1, "a", "1") + put(2, "b", "") + mark(2) + put(3, "a", "3\n\u00e9")
    snap = put(1, "a", "1") + put(2, "b", "2") + mark(2) + end(3)
    write("wal", "log", b"\x00" + log)
    write("wal", "log_torn_tail", b"\x00" + log + put(4, "c", "4")[:20])
    write("wal", "log_torn_lines", b"\x00" + log + b"0000 garbage\n" + put(5, "x", "y")[:-1])
    write("wal", "log_corrupt_middle", b"\x00" + put(1, "a", "1") + b"deadbeef {}\n" + mark(1))
    write("wal", "log_end_record", b"\x00" + log + end(4))
    write("wal", "snapshot", b"\x00" + snap)
    write("wal", "snapshot_and_log", b"\x02" + snap + put(3, "c", "3") + mark(3))
    write("wal", "snapshot_split", bytes([2 | (40 << 2)]) + snap + put(4, "d", "4"))
    write("wal", "snapshot_bad_count", b"\x02" + put(1, "a", "1") + end(2) + mark(1))
    write("wal", "gap_then_mark", b"\x00" + put(5, "a", "5") + put(2, "b", "2") + mark(3))
    # Checksums fixed by the target: payloads the decoder must judge.
    write("wal", "fixed_payloads", b"\x01" + b"00000000 {\"t\":\"put\",\"lsn\":1,\"k\":\"a\"}\n" +
          b"00000000 [1]\n" + b"00000000 {\"t\":\"mark\",\"complete\":-1}\n")
    write("wal", "fixed_spelling", b"\x01" +
          b"00000000 {\"v\":\"x\",\"k\":\"a\",\"lsn\":1,\"t\":\"put\"}\n" +
          b"00000000 {\"t\" : \"mark\" , \"complete\" : 1}\n")
    write("wal", "empty", b"\x00")
    write("wal", "log_preallocated", b"\x00" + log + bytes(64))
    write("wal", "snapshot_first_log_3", b"\x02" + put(1, "a", "1") + end(1, 3) + mark(1))


def configs():
    write("config", "frontend", js({
        "client_listen": "127.0.0.1:8000", "storage_listen": "127.0.0.1:8001",
        "resp_listen": "127.0.0.1:6379", "storage_timeout": 2.0, "unavailable_timeout": 5.0,
        "token": "", "max_key_bytes": 1024, "max_value_bytes": 1048576,
        "max_frame_bytes": 4194304, "catchup_chunk_bytes": 262144,
        "accept_data_loss": False, "log_level": "info"}))
    write("config", "storage", json.dumps({
        "id": "s1", "listen": "127.0.0.1:9101", "data_dir": "./data/s1",
        "frontend": "127.0.0.1:8001", "token": "", "snapshot_bytes": 67108864,
        "max_frame_bytes": 4194304, "reconnect_max": 2.0, "log_level": "debug"}, indent=2))
    write("config", "client", json.dumps({
        "id": "c1", "frontend": "127.0.0.1:8000", "token": "t", "request_timeout": 10.0,
        "reconnect_max": 2.0, "max_frame_bytes": 4194304, "history": "h.jsonl"}, indent=2))
    write("config", "empty_object", "{}\n")
    write("config", "not_object", "[1, 2]")
    write("config", "unknown_field", '{"id": "c1", "fronten": "127.0.0.1:8000"}')
    write("config", "wrong_type", '{"storage_timeout": "2", "max_key_bytes": -1}')
    write("config", "bad_address", '{"id": "s1", "listen": "localhost", "frontend": ":0"}')
    write("config", "bad_limits", '{"max_key_bytes": 4194304, "catchup_chunk_bytes": 1e3}')
    write("config", "invalid_json", '{"id": "s1",')
    write("config", "utf8_bom", b"\xef\xbb\xbf{\"id\": \"s\\u00e9\"}")


if __name__ == "__main__":
    messages()
    frames()
    resp()
    wal()
    configs()
