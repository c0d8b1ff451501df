#!/usr/bin/env bash
# scripts/lib/build-libfdt.sh <outdir>
# Builds <outdir>/libfdt.a: libfdt (libfdt/fdt*.c of Debian's device-tree-compiler source
# package) plus boot/libfdt_support.c, freestanding for aarch64 with the Swift
# toolchain's clang and the firmware's C flags. Installs the headers a user includes:
#   <outdir>/include/{libfdt.h,fdt.h,libfdt_env.h}   libfdt's own
#   <outdir>/include/libc/{string.h,stdlib.h}        the freestanding declarations
#                                                    libfdt_env.h needs (boot/libfdt_libc)
# and <outdir>/VERSION (the source package version). A user compiles with
#   -I <outdir>/include -isystem <outdir>/include/libc
# and links libfdt.a with boot/runtime.c (memcpy, memmove, memset, memcmp): the build
# checks that nothing else is left undefined.
#
# Source: device-tree-compiler 1.7.2-2 (trixie; bookworm has only 1.6.1), pinned, unpacked
# once into third_party/src and linked as third_party/dtc. If Debian has dropped that
# version it falls back to the newest 1.7.x (else 1.6.x) with a warning. If the archive
# lists the version but will not serve the whole source package (this machine's archive
# answers 404 for device-tree-compiler_1.7.2-2.dsc and .debian.tar.xz, and serves the
# .orig.tar.xz), it unpacks the upstream tarball alone after checking it against the
# SHA-256 in the signed Sources index, with a warning: Debian's patches (in the
# .debian.tar.xz that cannot be had) are then not applied. OUTDIR/VERSION says which.
# RMM_DTC_DIR uses an existing dtc source tree instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/scripts/lib/common.sh"

DTC_VERSION=1.7.2-2
PKG=device-tree-compiler

[ $# -eq 1 ] || die "usage: build-libfdt.sh <outdir>"
out=$1

# Prints the SHA-256, size and name of VERSION's upstream tarball from the Sources index.
orig_checksum() {
  apt-cache showsrc "$PKG" 2>/dev/null | awk -v v="$1" '
    /^Package:/ { inpkg = 0 } /^Version:/ { inpkg = ($2 == v) }
    /^[A-Za-z0-9-]+:/ { sha = ($1 == "Checksums-Sha256:") ; next }
    inpkg && sha && $3 ~ /\.orig\.tar\./ { print $1, $2, $3; exit }'
}

fetch_dtc() {
  local versions ver work log_file line sha name tree up provenance
  versions=$(apt-cache showsrc "$PKG" 2>/dev/null | awk '/^Version:/{print $2}' | sort -uV)
  [ -n "$versions" ] || die "apt knows no $PKG source package: scripts/setup's deb-src entry (trixie) is missing, or apt-get update has not run"
  ver=$DTC_VERSION
  if ! grep -qxF "$ver" <<<"$versions"; then
    ver=$(grep -E '^1\.7\.' <<<"$versions" | tail -1 || true)
    [ -n "$ver" ] || ver=$(grep -E '^1\.6\.' <<<"$versions" | tail -1 || true)
    [ -n "$ver" ] || die "$PKG $DTC_VERSION is gone and no 1.7.x or 1.6.x source package is left (apt has: $(echo $versions))"
    warn "$PKG $DTC_VERSION is no longer in the archive; falling back to the newest 1.7.x/1.6.x: $ver"
  fi
  up=${ver%-*}; up=${up#*:}
  mkdir -p "$root/third_party/src"
  work=$root/third_party/src/$PKG.fetch
  rm -rf "$work"; mkdir -p "$work"
  log_file=$work/apt.log
  if (cd "$work" && apt-get source -qq "$PKG=$ver") >"$log_file" 2>&1; then
    tree=$work/$PKG-$up
    provenance="$PKG $ver (Debian source package)"
  else
    warn "apt-get source $PKG=$ver failed:"
    grep -E '^E: ' "$log_file" | sed 's/^/    /' >&2 || true
    line=$(orig_checksum "$ver")
    read -r sha _ name <<<"$line" || true
    [ -n "${name:-}" ] || die "$PKG $ver: no upstream tarball in the Sources index"
    if [ ! -f "$work/$name" ]; then
      (cd "$work" && apt-get source --download-only -qq "$PKG=$ver") >>"$log_file" 2>&1 || true
    fi
    [ -f "$work/$name" ] || die "$PKG $ver: neither the source package nor its upstream tarball $name could be downloaded"
    [ "$(sha256sum "$work/$name" | cut -d' ' -f1)" = "$sha" ] \
      || die "$PKG $ver: $name does not match the SHA-256 of the Sources index"
    warn "$PKG $ver: using the upstream tarball $name alone (SHA-256 checked against the signed Sources index); Debian's patches are not applied"
    mkdir -p "$work/orig"
    tar -xf "$work/$name" -C "$work/orig"
    tree=$(ls -d "$work"/orig/*/libfdt/fdt.c 2>/dev/null | head -1 || true)
    tree=${tree%/libfdt/fdt.c}
    provenance="$PKG $ver (upstream tarball $name only; Debian's patches not applied)"
  fi
  [ -n "$tree" ] && [ -f "$tree/libfdt/fdt.c" ] || die "$PKG $ver: no libfdt/fdt.c in the unpacked source"
  echo "$provenance" >"$tree/.rmm-source"
  rm -rf "$root/third_party/src/$PKG-$up"
  mv "$tree" "$root/third_party/src/$PKG-$up"
  find "$work" -maxdepth 1 -type f \( -name '*.tar.*' -o -name '*.dsc' \) -exec mv -f {} "$root/third_party/src/" \;
  rm -rf "$work"
  ln -sfn "src/$PKG-$up" "$root/third_party/dtc"
  log "libfdt source: $(cat "$root/third_party/dtc/.rmm-source")"
}

if [ -n "${RMM_DTC_DIR:-}" ]; then
  dtc=$RMM_DTC_DIR
  [ -f "$dtc/libfdt/fdt.c" ] || die "RMM_DTC_DIR=$dtc has no libfdt/fdt.c"
else
  dtc=$root/third_party/dtc
  [ -f "$dtc/libfdt/fdt.c" ] || fetch_dtc
fi
source_desc=$(cat "$dtc/.rmm-source" 2>/dev/null || echo "$dtc (RMM_DTC_DIR)")
upstream=$(cat "$dtc/VERSION.txt" 2>/dev/null || echo unknown)

bin=$(swift_bin_dir)
cc=$bin/clang
ar=$bin/llvm-ar
nm=$bin/llvm-nm; [ -x "$nm" ] || nm=$(command -v llvm-nm) || die "no llvm-nm"
lld=$bin/ld.lld
[ -x "$cc" ] || die "no clang in $bin (the Swift toolchain)"
# The firmware's C flags (scripts/build), no system headers: clang's freestanding ones
# (stddef, stdint, stdbool, limits) and boot/libfdt_libc.
flags=(--target=aarch64-none-elf -mgeneral-regs-only -mstrict-align -ffreestanding -fno-builtin
  -fno-stack-protector -ffunction-sections -fdata-sections -O2 -mbranch-protection=none -std=gnu11
  -nostdinc -isystem "$("$cc" -print-resource-dir)/include" -isystem "$root/boot/libfdt_libc"
  -I "$dtc/libfdt")

obj=$out/obj-libfdt
rm -rf "$obj"; mkdir -p "$obj" "$out/include/libc"
objects=()
for f in "$dtc"/libfdt/fdt*.c; do
  o=$obj/$(basename "${f%.c}").o
  # libfdt is built as shipped: its warnings are shown, not fatal; our file must be clean.
  "$cc" "${flags[@]}" -Wall -c "$f" -o "$o"
  objects+=("$o")
done
"$cc" "${flags[@]}" -Wall -Wextra -Werror -c "$root/boot/libfdt_support.c" -o "$obj/libfdt_support.o"
objects+=("$obj/libfdt_support.o")
rm -f "$out/libfdt.a"
"$ar" rcsD "$out/libfdt.a" "${objects[@]}"
cp "$dtc/libfdt/libfdt.h" "$dtc/libfdt/fdt.h" "$dtc/libfdt/libfdt_env.h" "$out/include/"
cp "$root/boot/libfdt_libc/string.h" "$root/boot/libfdt_libc/stdlib.h" "$out/include/libc/"
echo "$source_desc" >"$out/VERSION"

# Nothing may be left undefined but what boot/runtime.c provides: first by the symbol
# tables, then by linking every member (--whole-archive) with runtime.o alone into a
# throw-away static executable (ld.lld refuses an undefined symbol).
"$cc" --target=aarch64-none-elf -mgeneral-regs-only -mstrict-align -ffreestanding -fno-builtin \
  -fno-stack-protector -ffunction-sections -fdata-sections -O2 -mbranch-protection=none \
  -c "$root/boot/runtime.c" -o "$obj/runtime.o"
symbols() { "$nm" "$@" -j | grep -v -e ':$' -e '^$' | sort -u || true; }   # no member headers
provided=$(symbols --defined-only "$obj/runtime.o")
undefined=$(symbols -u "$out/libfdt.a")
defined=$(symbols --defined-only "$out/libfdt.a")
missing=$(comm -23 <(comm -23 <(echo "$undefined") <(echo "$defined")) <(echo "$provided"))
[ -z "$missing" ] || die "libfdt.a needs symbols neither it nor boot/runtime.c defines: $(echo $missing)"
"$lld" -static -nostdlib -e fdt_check_header --whole-archive "$out/libfdt.a" --no-whole-archive "$obj/runtime.o" \
  -o "$obj/link-check.elf" 2>"$obj/link-check.log" || { cat "$obj/link-check.log" >&2; die "libfdt.a does not link with boot/runtime.c alone"; }
left=$(symbols -u "$obj/link-check.elf")
[ -z "$left" ] || die "undefined after linking libfdt.a with boot/runtime.c: $(echo $left)"
log "$out/libfdt.a: libfdt $upstream ($source_desc), aarch64 freestanding; needs only $(comm -12 <(echo "$undefined") <(echo "$provided") | tr '\n' ' ')from boot/runtime.c"
