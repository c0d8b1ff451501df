#!/usr/bin/env bash
# build-tfa.sh PLATFORM RMM_IMAGE BL33_IMAGE OUTDIR [trp]
# Builds TF-A (the pinned Debian source) around our RMM and BL33. With "trp" as the
# fifth argument it builds TF-A's own test RMM (TRP) instead, for the benchmark floor.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/scripts/lib/common.sh"
platform=$1 rmm=$2 bl33=$3 out=$4 flavour=${5:-ours}
. "$root/scripts/lib/board.sh"
load_board "$platform"
tfa=$(tfa_dir)
[ -f "$tfa/Makefile" ] || die "no TF-A source at $tfa (run scripts/setup)"
base=$root/build/tfa-$(basename "$out")-$flavour
rmm_arg=("RMM=$rmm")
[ "$flavour" = trp ] && rmm_arg=()
log "TF-A ($platform, $flavour)"
# shellcheck disable=SC2086
make -C "$tfa" -j"$(nproc)" CROSS_COMPILE=aarch64-linux-gnu- $TFA_PLAT_ARGS DEBUG=0 \
  BUILD_BASE="$base" "${rmm_arg[@]}" BL33="$bl33" all fip >"$base.log" 2>&1 \
  || { tail -30 "$base.log"; die "TF-A build failed (log: $base.log)"; }
rel=$base/$platform/release
if [ "$platform" = qemu ]; then
  dst=$out/qemu_fw.bios
  [ "$flavour" = trp ] && dst=$out/qemu_fw_trp.bios
  cp "$rel/qemu_fw.bios" "$dst"
  log "$(basename "$dst"): $(stat -c %s "$dst") bytes"
else
  if [ "$flavour" = trp ]; then suffix=_trp; else suffix=; fi
  cp "$rel/bl1.bin" "$out/bl1$suffix.bin"
  cp "$rel/fip.bin" "$out/fip$suffix.bin"
  log "bl1.bin, fip.bin in $out"
fi
