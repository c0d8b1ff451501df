# run_integration NAME BIOS SMP TIMEOUT [qemu args...]: boots the stack, prints the
# transcript to LOG, and checks it: QEMU ended by itself, the payload printed its
# summary with no failures, and the RMM never crashed (or, with EXPECTED_CRASH=regex,
# crashed exactly as the test provoked). Sets PASSED/FAILED.
run_integration() {
  local name=$1 bios=$2 smp=$3 tmo=$4; shift 4
  local log=$root/build/logs/$name.log
  mkdir -p "$root/build/logs"
  local rc=0
  run_qemu "$log" "$bios" "$smp" "$tmo" "$@" || rc=$?
  local summary
  summary=$(grep -E '^TESTHOST: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1 || true)
  PASSED=$(echo "$summary" | sed -nE 's/^TESTHOST: ([0-9]+) passed.*/\1/p')
  FAILED=$(echo "$summary" | sed -nE 's/.* ([0-9]+) failed.*/\1/p')
  PASSED=${PASSED:-0}
  FAILED=${FAILED:-1}
  grep -E '^\[ FAIL \]|^ +got |RMM CRASH|UNEXPECTED' "$log" | grep -v "${EXPECTED_CRASH:-^$}" || true
  if [ $rc -eq 124 ]; then echo "FAIL $name: QEMU did not power off within ${tmo}s (hang)"; FAILED=$((FAILED + 1)); fi
  if [ -z "${EXPECTED_CRASH:-}" ] && grep -q 'RMM CRASH' "$log"; then
    echo "FAIL $name: the RMM crashed"; FAILED=$((FAILED + 1))
  fi
  if [ -n "${EXPECTED_CRASH:-}" ]; then  # a run that must show one crash report
    if grep -q "$EXPECTED_CRASH" "$log"; then PASSED=$((PASSED + 1))
    else echo "FAIL $name: no crash report matching '$EXPECTED_CRASH'"; FAILED=$((FAILED + 1)); fi
  fi
  if [ -z "$summary" ]; then echo "FAIL $name: no summary line (log: $log)"; tail -20 "$log"; fi
  echo "$name: $PASSED passed, $FAILED failed (log: ${log#$root/})"
}
