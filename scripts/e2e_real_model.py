#!/usr/bin/env python3
"""End-to-end check of a running Paliadin against a real local model (stdlib only).

Starts a turn, reads its SSE stream until a few content events arrived, drops the
connection, resumes with Last-Event-ID, and checks that the reassembled answer equals
the stored response, that ids have no gap or repeat, and that the row is complete.
"""
import http.client
import json
import os
import sys
import time

host, port = sys.argv[1], int(sys.argv[2])
AUTH = {"Authorization": "Bearer " + os.environ["PALIADIN_TOKEN"]}


def request(method, path, body=None, auth=True):
    conn = http.client.HTTPConnection(host, port, timeout=180)
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"Content-Type": "application/json", **(AUTH if auth else {})})
    resp = conn.getresponse()
    return resp.status, resp.read().decode()


def stream(path, last_event_id=None, stop_after_content=None):
    """Reads SSE frames; returns (events, finished) where events are (id, name, data)."""
    conn = http.client.HTTPConnection(host, port, timeout=180)
    headers = {"Accept": "text/event-stream", **AUTH}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    assert resp.status == 200, resp.status
    assert resp.getheader("Content-Type", "").startswith("text/event-stream")
    events, frame, contents = [], {}, 0
    while True:
        line = resp.fp.readline()
        if not line:
            conn.close()
            return events, False
        line = line.decode().rstrip("\r\n")
        if line == "":
            if "event" in frame or "data" in frame:
                event = (int(frame["id"]) if "id" in frame else None, frame.get("event", "message"), frame.get("data", ""))
                events.append(event)
                if event[1] in ("end", "error"):
                    conn.close()
                    return events, True
                if event[1] == "content":
                    contents += 1
                    if stop_after_content and contents >= stop_after_content:
                        conn.close()
                        return events, False
            frame = {}
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        frame[field] = value[1:] if value.startswith(" ") else value


status, _ = request("GET", "/api/paliadin/history?session=e2e", auth=False)
assert status == 401, f"a request without the token got {status}"

status, body = request("POST", "/api/paliadin/turn",
                       {"user_message": "Write three short sentences about the sea.", "session_id": "e2e"})
assert status == 200, (status, body)
turn = json.loads(body)
print(f"[e2e] turn {turn['turn_id']} started")
started = time.time()

first, finished = stream(turn["sse_url"], stop_after_content=3)
assert not finished, "the answer ended before the reader was cut; ask for something longer"
last_id = [e[0] for e in first if e[0] is not None][-1]
print(f"[e2e] reader cut after event {last_id}; resuming with Last-Event-ID")
rest, finished = stream(turn["sse_url"], last_event_id=last_id)
assert finished, "the resumed stream did not end"
events = [e for e in first + rest if e[1] != "ping"]
ids = [e[0] for e in events]
assert ids == list(range(1, len(ids) + 1)), f"gap or duplicate in ids: {ids}"
assert events[0][1] == "meta", events[0]
assert events[-1][1] == "end", events[-1]
text = "".join(json.loads(e[2]).get("delta", "") for e in events if e[1] == "content")
status, body = request("GET", f"/api/paliadin/turn/{turn['turn_id']}")
row = json.loads(body)
assert row["status"] == "completed", row
assert row["response"] == text, "reassembled answer differs from the stored response"
assert len(text.strip()) > 0
print(f"[e2e] {len(ids)} events, {len(text)} characters, ttft {row['ttft_ms']} ms, "
      f"duration {row['duration_ms']} ms, tokens in/out {row['tokens_in']}/{row['tokens_out']}")
print(f"[e2e] answer: {text[:160]!r}")

status, body = request("GET", "/api/paliadin/history?session=e2e")
assert status == 200 and len(json.loads(body)) == 1, body
status, body = request("GET", "/api/admin/paliadin/stats")
assert status == 200 and json.loads(body)["turns_total"] >= 1, body
print(f"[e2e] passed in {time.time() - started:.1f} s")
