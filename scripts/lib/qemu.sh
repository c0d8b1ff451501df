# run_qemu LOG BIOS SMP TIMEOUT [extra qemu args...]: the one QEMU command line of the
# project (UART0 -> LOG, secure UART1 with TF-A's crash console -> LOG.uart1).
run_qemu() {
  local log=$1 bios=$2 smp=$3 tmo=$4; shift 4
  timeout --foreground -k 5 "$tmo" "$(qemu_bin)" \
    -M virt,secure=on,virtualization=on,gic-version=3 \
    -cpu max,x-rme=on -smp "$smp" -m "${RMM_QEMU_MEMORY:-1G}" -nic none \
    -display none -monitor none \
    -serial "file:$log.raw" -serial "file:$log.uart1" \
    -bios "$bios" "$@" </dev/null
  local rc=$?
  tr -d '\r' <"$log.raw" >"$log"
  rm -f "$log.raw"
  return $rc
}
# The run-configuration page the NS test payload reads (Sources/TestHost/Main.swift).
run_config_args() {  # mode [args...]
  local addr=$((0x5FFFF000)) i=0
  printf -- '-device loader,addr=0x%x,data=0x5354534f484d4d52,data-len=8 ' $addr
  printf -- '-device loader,addr=0x%x,data=%s,data-len=8 ' $((addr + 8)) "$1"; shift
  for a in "$@"; do
    printf -- '-device loader,addr=0x%x,data=%s,data-len=8 ' $((addr + 16 + 8 * i)) "$a"; i=$((i + 1))
  done
}
