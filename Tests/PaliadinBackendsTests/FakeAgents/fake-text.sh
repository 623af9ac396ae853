#!/bin/sh
# A plain-text agent: records its standard input (FAKE_RECORD), then writes its answer in three
# pieces, the second ending in the first byte of a two-byte UTF-8 character. With FAKE_GO set,
# it waits for the files "$FAKE_GO.1" and "$FAKE_GO.2" (up to 5 s each) before the second and
# third pieces, so a test can prove each piece was passed on before the next was written.
if [ -n "$FAKE_RECORD" ]; then cat >"$FAKE_RECORD"; else cat >/dev/null; fi
await() {
  [ -n "$FAKE_GO" ] || { sleep 0.05; return; }
  i=0
  while [ ! -e "$FAKE_GO.$1" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
}
printf 'one '
await 1
printf 'two \303'
await 2
printf '\251 three\n'
