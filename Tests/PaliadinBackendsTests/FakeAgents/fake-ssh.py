#!/usr/bin/env python3
"""A stand-in for `ssh` that behaves like the remote end of a session: the words after `--`
are joined with spaces and run by `/bin/sh -c` in a new session (as sshd runs the command of
a session), with this program's standard input forwarded to it. When this program ends (it is
killed: the connection drops), the remote command's standard input reaches end-of-file; its
output goes straight to this program's.
"""
import os
import subprocess
import sys
import threading

args = sys.argv[1:]
remote = " ".join(args[args.index("--") + 1:])
child = subprocess.Popen(["/bin/sh", "-c", remote], stdin=subprocess.PIPE, start_new_session=True)


def forward():
    try:
        while True:
            data = os.read(0, 65536)
            if not data:
                break
            child.stdin.write(data)
            child.stdin.flush()
    except OSError:
        pass
    try:
        child.stdin.close()
    except OSError:
        pass


threading.Thread(target=forward, daemon=True).start()
sys.exit(child.wait())
