#!/usr/bin/env bash
# scripts/lib/build-crypto.sh <outdir> [--host]
# Builds <outdir>/librmmcrypto.a: the mbedTLS 3.6 files ECDSA P-384 signing needs, with
# Sources/RMMCrypto/mbedtls_rmm_config.h, plus Sources/RMMCrypto/rmm_crypto.c.
#   firmware (default): aarch64, freestanding, the Swift toolchain's clang, our libc/ headers.
#   --host: x86_64 (or whatever the host is) with the system compiler and C library, for
#           the self-test harness (scripts/check-crypto); same configuration file.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/scripts/lib/common.sh"

[ $# -ge 1 ] || die "usage: build-crypto.sh <outdir> [--host]"
out=$1; shift
host=0
while [ $# -gt 0 ]; do
  case "$1" in
    --host) host=1; shift;;
    *) die "unknown argument $1";;
  esac
done

mbedtls=$(mbedtls_dir)
[ -f "$mbedtls/include/mbedtls/ecdsa.h" ] || die "no mbedTLS source at $mbedtls (run scripts/setup)"
src=$root/Sources/RMMCrypto

# Only these library files are compiled. asn1parse/asn1write are there because
# check_config.h requires them with ECDSA (DER helpers; unused, dropped by --gc-sections).
mbedtls_files=(bignum bignum_core constant_time ecp ecp_curves ecdsa hmac_drbg md sha512
  platform platform_util asn1parse asn1write)

common=(-std=gnu11 -O2 -ffunction-sections -fdata-sections
  -DMBEDTLS_CONFIG_FILE='"mbedtls_rmm_config.h"'
  -I "$src" -I "$src/include" -I "$mbedtls/include" -I "$mbedtls/library")
# mbedTLS is built as shipped: its warnings are shown (there are none with clang 21 and
# gcc 12) but not fatal, so a new compiler cannot break the build; our file must be clean.
mbedtls_warnings=(-Wall -Wextra)
own_warnings=(-Wall -Wextra -Werror)

if [ $host = 1 ]; then
  cc=${CC:-cc}
  ar=${AR:-ar}
  # Debug information for valgrind's reports (scripts/check-constant-time: function and
  # line names, inlined frames included); it does not change the generated code.
  # DWARF 4: Debian 12's valgrind 3.19 cannot read clang 21's DWARF 5.
  flags=("${common[@]}" -DRMM_CRYPTO_HOST -fPIC -gdwarf-4)
else
  bin=$(swift_bin_dir)
  cc=$bin/clang
  ar=$bin/llvm-ar
  # The firmware's C flags (scripts/build), plus: no system headers at all, only
  # clang's freestanding ones (stddef, stdint, limits, ...) and our libc/ declarations.
  flags=(--target=aarch64-none-elf -mgeneral-regs-only -mstrict-align -ffreestanding -fno-builtin
    -fno-stack-protector -mbranch-protection=none -nostdinc
    -isystem "$("$cc" -print-resource-dir)/include" -isystem "$src/libc"
    -I "$root/Sources/AArch64Shim/include" "${common[@]}")   # rmm_layout.h: RMM_MAX_CPUS
fi

obj=$out/obj-crypto
mkdir -p "$obj"
objects=()
for f in "${mbedtls_files[@]}"; do
  "$cc" "${flags[@]}" "${mbedtls_warnings[@]}" -c "$mbedtls/library/$f.c" -o "$obj/mbedtls_$f.o"
  objects+=("$obj/mbedtls_$f.o")
done
"$cc" "${flags[@]}" "${own_warnings[@]}" -c "$src/rmm_crypto.c" -o "$obj/rmm_crypto.o"
objects+=("$obj/rmm_crypto.o")

rm -f "$out/librmmcrypto.a"
"$ar" rcs "$out/librmmcrypto.a" "${objects[@]}"
log "$out/librmmcrypto.a ($([ $host = 1 ] && echo host || echo aarch64 firmware))"
