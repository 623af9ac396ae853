#!/bin/sh
# An agent that ignores SIGTERM, as does the child it leaves running; writes both pids to
# FAKE_PIDS, says something, then waits.
trap '' TERM
sleep 300 &
echo "$$ $!" >"$FAKE_PIDS"
echo "still here"
wait
