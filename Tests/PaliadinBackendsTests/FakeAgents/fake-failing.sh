#!/bin/sh
# Writes far more to standard error than a pipe holds (it must be read while the agent runs),
# then fails.
i=0
while [ $i -lt 4000 ]; do
  echo "noise line $i with some padding to make it longer than a few bytes" >&2
  i=$((i + 1))
done
echo "fatal: boom" >&2
exit 3
