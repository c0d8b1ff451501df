# Shared helpers for the project scripts (sourced, not run).
log()  { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
warn() { printf '[%s] WARNING: %s\n' "$(basename "$0")" "$*" >&2; }
die()  { printf '[%s] ERROR: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }
qemu_bin() { echo "${RMM_QEMU:-qemu-system-aarch64}"; }
tfa_dir() { echo "${RMM_TFA_DIR:-$root/third_party/tfa}"; }
swift_bin_dir() {
  local s; s=$(command -v swiftc || true)
  [ -n "$s" ] || s=/opt/swift/usr/bin/swiftc
  dirname "$(readlink -f "$s")"
}
mbedtls_dir() { echo "${RMM_MBEDTLS_DIR:-$root/third_party/mbedtls}"; }
