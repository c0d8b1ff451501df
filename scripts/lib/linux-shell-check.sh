#!/usr/bin/env bash
# scripts/lib/linux-shell-check.sh: the interactive shell of the Linux realm
# (scripts/run-linux --shell: what `scripts/run --shell` runs, 2 vCPUs), driven through its
# console: waits for busybox's shell, types a command, reads the answer, checks that
# the UART's receive interrupt reached
# the realm, powers off. One ok/FAIL line per check (scripts/test counts them).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/build/logs/linux-shell.txt
fifo=$root/build/linux/shell-input
mkdir -p "$root/build/logs" "$root/build/linux"
: >"$out"
rm -f "$fifo"
mkfifo "$fifo"
(
  exec 3>"$fifo"
  for _ in $(seq 1 1200); do grep -q "built-in shell" "$out" && break; sleep 0.5; done
  sleep 1
  printf 'echo SHELL-OK $((6*7))\n' >&3; sleep 3
  printf 'grep uart-pl011 /proc/interrupts\n' >&3; sleep 3
  printf 'poweroff -f\n' >&3; sleep 60
) &
typist=$!
timeout 600 "$root/scripts/run-linux" --shell <"$fifo" >"$out" 2>&1
rc=$?
kill $typist 2>/dev/null
rm -f "$fifo"
failed=0
ok() { if "$@"; then echo "ok   $what"; else echo "FAIL $what"; failed=1; fi; }
what="shell: busybox's shell started on the realm's console"; ok grep -q "built-in shell" "$out"
what="shell: a typed command ran (echo SHELL-OK \$((6*7)) -> SHELL-OK 42)"; ok grep -q "^SHELL-OK 42" "$out"
what="shell: input raised the UART's receive interrupt (INTID 33) in the realm"
# /proc/interrupts: one count column per CPU; some CPU took it.
ok awk '/GICv3 +33 Level +uart-pl011/ { for (i = 2; $i ~ /^[0-9]+$/; i++) if ($i > 0) found = 1 } END { exit !found }' "$out"
what="shell: poweroff -f ended the run"; ok test $rc = 0
exit $failed
