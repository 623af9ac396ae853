#!/usr/bin/env python3
"""A stand-in for `claude -p --output-format stream-json --verbose`.

The first argument names the scenario; the rest are recorded. With FAKE_RECORD set, the
arguments, standard input, working directory and environment are written there as JSON
before anything else happens. With FAKE_PIDS set, the agent's pid and its grandchild's pid
are written there (scenario `hang`).
"""
import json
import os
import subprocess
import sys
import time

scenario = sys.argv[1] if len(sys.argv) > 1 else "normal"
prompt = sys.stdin.read()
record = os.environ.get("FAKE_RECORD")
if record:
    with open(record, "w") as f:
        json.dump({"argv": sys.argv[1:], "stdin": prompt, "cwd": os.getcwd(), "env": dict(os.environ)}, f)


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def raw(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def init(session="sess-new"):
    emit({"type": "system", "subtype": "init", "session_id": session, "tools": ["Read", "Bash"], "model": "fake"})


def text(message_id, *parts):
    emit({"type": "assistant", "message": {"id": message_id, "content": [{"type": "text", "text": p} for p in parts]},
          "parent_tool_use_id": None, "session_id": "sess-new"})


def tool(message_id, name):
    emit({"type": "assistant", "message": {"id": message_id, "content": [{"type": "tool_use", "id": "tu_" + name, "name": name, "input": {}}]},
          "parent_tool_use_id": None, "session_id": "sess-new"})


def tool_result():
    emit({"type": "user", "message": {"content": [{"type": "tool_result", "tool_use_id": "tu", "content": "ok"}]}})


def event(ev):
    emit({"type": "stream_event", "event": ev, "parent_tool_use_id": None, "session_id": "sess-new"})


def delta(t):
    event({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}})
    time.sleep(0.005)


def result(subtype="success", is_error=False, text="", **extra):
    line = {"type": "result", "subtype": subtype, "is_error": is_error, "duration_ms": 1234, "total_cost_usd": 0.0123,
            "usage": {"input_tokens": 11, "output_tokens": 7, "cache_read_input_tokens": 100}, "session_id": "sess-new"}
    if text is not None:
        line["result"] = text
    line.update(extra)
    emit(line)


if scenario == "normal":
    init()
    text("m1", "Hello from the fake.")
    result(text="Hello from the fake.")
elif scenario == "echo":
    init()
    text("m1", "prompt was: " + prompt)
    result()
elif scenario == "tools":
    init()
    text("m1", "Let me look.")
    tool("m1", "Read")
    tool_result()
    tool("m2", "Bash")
    tool_result()
    tool("m3", "Read")
    tool_result()
    text("m4", "Done.")
    result()
elif scenario == "partial":
    init()
    event({"type": "message_start", "message": {"id": "m1", "content": []}})
    event({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
    for piece in ["Hel", "lo", " thé", "re"]:
        delta(piece)
    event({"type": "content_block_stop", "index": 0})
    text("m1", "Hello thére")
    event({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "name": "Grep", "input": {}}})
    event({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{}"}})
    tool("m1", "Grep")
    event({"type": "message_stop"})
    tool_result()
    event({"type": "message_start", "message": {"id": "m2", "content": []}})
    for piece in ["All ", "done."]:
        delta(piece)
    text("m2", "All done.")
    event({"type": "message_stop"})
    result(text="All done.")
elif scenario == "partial-cut":
    init()
    event({"type": "message_start", "message": {"id": "m1", "content": []}})
    delta("Hel")
    text("m1", "Hello there")
    result()
elif scenario == "max-turns":
    init()
    text("m1", "Working on it")
    result(subtype="error_max_turns", is_error=True, text=None, errors=["Reached maximum number of turns (3)"])
    sys.exit(1)
elif scenario == "api-error":
    init()
    result(subtype="success", is_error=True, text="API Error: 529 overloaded")
    sys.exit(1)
elif scenario == "garbage":
    init()
    raw("this is not json")
    raw("{\"type\": \"assistant\", \"message\": {\"content\": [")
    raw("[1, 2, 3]")
    raw("")
    emit({"type": "something_new", "payload": 1})
    text("m1", "Still fine.")
    result()
elif scenario == "no-result":
    init()
    text("m1", "partial answer")
elif scenario == "rate-limited":
    init()
    emit({"type": "rate_limit_event", "rate_limit_info": {"status": "rejected", "resetsAt": 1774447200, "rateLimitType": "five_hour"}})
    time.sleep(30)
elif scenario == "rate-allowed":
    init()
    emit({"type": "rate_limit_event", "rate_limit_info": {"status": "allowed_warning", "resetsAt": 1774447200, "rateLimitType": "seven_day",
                                                          "overageStatus": "rejected"}})
    text("m1", "Fine.")
    result()
elif scenario == "long-line":
    init()
    text("m1", "x" * 200_000)
    result()
elif scenario == "linger":
    # Answers, then keeps running with its output closed.
    init()
    text("m1", "Answered.")
    result()
    os.close(1)
    time.sleep(30)
elif scenario == "hang":
    init()
    child = subprocess.Popen(["sleep", "300"])
    with open(os.environ["FAKE_PIDS"], "w") as f:
        f.write("%d %d\n" % (os.getpid(), child.pid))
    text("m1", "thinking...")
    time.sleep(300)
else:
    sys.stderr.write("unknown scenario %s\n" % scenario)
    sys.exit(2)
