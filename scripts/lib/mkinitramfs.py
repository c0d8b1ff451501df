#!/usr/bin/env python3
"""mkinitramfs.py: the Linux realm guest's initramfs (issue #14), a gzip-compressed newc cpio.

  mkinitramfs.py OUT.cpio.gz --busybox PATH [--modules-dir DIR --module M1.ko --module M2.ko ...] [--list]
  mkinitramfs.py --list ARCHIVE            (lists an existing archive: gzip or plain newc)

The archive holds /bin/busybox, /bin/sh -> busybox, the directories /dev /proc /sys /tmp
/etc /root /lib/modules (and /sbin /usr/bin /usr/sbin for busybox's applet links),
/dev/console (c 5,1), the modules under /lib/modules/ and /init. The modules are loaded in
the order given (dependencies first: scripts/fetch-linux writes that order to
modules.load). /init prints these lines on the console, in this order:

  INIT-REACHED uptime=<seconds>         first field of /proc/uptime
  INIT-COMMAND-OK <uname -r>
  INIT-CPUS <n online>
  INIT-SVE vector-length-bytes=<n> | INIT-NO-SVE   whether the kernel found SVE
  INIT-PMU <perf PMU name> | INIT-NO-PMU           and its PMU driver probed the PMU
                                        and, with a second CPU, one hotplug cycle of it:
  INIT-HOTPLUG-OK | INIT-HOTPLUG-FAILED (PSCI CPU_OFF, then CPU_ON again)
  INIT-MODULES-OK | INIT-MODULES-FAILED <module>
  CCA-CHALLENGE <128 hex digits>        the challenge for the TSM report's inblob
  CCA-TOKEN-BYTES <n>                   the size of outblob (the CCA token)
  CCA-TOKEN-BEGIN
  <the token in hex, lower case, 64 digits a line (the last line shorter)>
  CCA-TOKEN-END
  INIT-DONE
At the first failure of the attestation steps (a malformed cca_challenge, configfs or
tsm_report missing, no provider, inblob or outblob refused), CCA-TOKEN-FAILED <reason>
replaces the rest of the CCA- lines. Kernel messages may come between any two lines.

The challenge is the kernel parameter cca_challenge=<128 hex digits> (64 bytes), or 64
bytes of /dev/urandom without one. Then, with `initshell` on the command line, a shell on
the console; otherwise poweroff -f (PSCI SYSTEM_OFF).

The output is deterministic: the same inputs give the same bytes (sorted entries,
sequential inode numbers, mtime 0, owner root, the gzip framing written here with no
name or time in it), because the host measures the archive into the realm's RIM. Only
the deflate stream depends on the host's zlib.
"""
import argparse
import os
import re
import stat
import struct
import sys
import zlib

MTIME = 0

INIT = r"""#!/bin/sh
# /init of the Linux realm guest (written by scripts/lib/mkinitramfs.py).
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
read up rest </proc/uptime
echo "INIT-REACHED uptime=$up"
echo "INIT-COMMAND-OK $(uname -r)"
echo "INIT-CPUS $(grep -c ^processor /proc/cpuinfo)"
if grep -q '^Features.* sve' /proc/cpuinfo; then
  echo "INIT-SVE vector-length-bytes=$(cat /proc/sys/abi/sve_default_vector_length 2>/dev/null)"
else
  echo "INIT-NO-SVE"
fi
if ls /sys/bus/event_source/devices/ 2>/dev/null | grep -q '^armv8'; then
  echo "INIT-PMU $(ls /sys/bus/event_source/devices/ | grep '^armv8' | head -1)"
else
  echo "INIT-NO-PMU"
fi
if [ -e /sys/devices/system/cpu/cpu1/online ]; then
  if echo 0 >/sys/devices/system/cpu/cpu1/online && [ "$(cat /sys/devices/system/cpu/cpu1/online)" = 0 ] \
     && echo 1 >/sys/devices/system/cpu/cpu1/online && [ "$(cat /sys/devices/system/cpu/cpu1/online)" = 1 ]; then
    echo "INIT-HOTPLUG-OK"
  else
    echo "INIT-HOTPLUG-FAILED"
  fi
fi

failed=
for m in @MODULES@; do
  insmod "/lib/modules/$m" || { failed=$m; break; }
done
if [ -z "$failed" ]; then echo "INIT-MODULES-OK"; else echo "INIT-MODULES-FAILED ${failed%.ko}"; fi

set -f
challenge= initshell=0
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    cca_challenge=*) challenge=${arg#cca_challenge=};;
    initshell) initshell=1;;
  esac
done
set +f

# The attestation token through configfs-tsm (arm-cca-guest is its provider).
attest() {
  if [ -n "$challenge" ]; then
    case "$challenge" in *[!0-9a-fA-F]*) echo "CCA-TOKEN-FAILED cca_challenge is not hexadecimal"; return 1;; esac
    [ ${#challenge} -eq 128 ] || { echo "CCA-TOKEN-FAILED cca_challenge has ${#challenge} hex digits, not 128"; return 1; }
    printf "$(echo "$challenge" | sed 's/../\\x&/g')" >/tmp/challenge
  else
    dd if=/dev/urandom of=/tmp/challenge bs=64 count=1 2>/dev/null
  fi
  n=$(wc -c </tmp/challenge)
  [ "$n" -eq 64 ] || { echo "CCA-TOKEN-FAILED the challenge is $n bytes, not 64"; return 1; }
  echo "CCA-CHALLENGE $(hexdump -v -e '64/1 "%02x"' /tmp/challenge)"
  cfg=/sys/kernel/config
  if ! grep -q " $cfg configfs " /proc/mounts; then
    [ -d $cfg ] || { echo "CCA-TOKEN-FAILED no $cfg: configfs is not loaded"; return 1; }
    mount -t configfs configfs $cfg || { echo "CCA-TOKEN-FAILED cannot mount configfs on $cfg"; return 1; }
  fi
  [ -d $cfg/tsm/report ] || { echo "CCA-TOKEN-FAILED no $cfg/tsm/report: tsm_report is not loaded"; return 1; }
  r=$cfg/tsm/report/r0
  mkdir $r || { echo "CCA-TOKEN-FAILED cannot create $r (no TSM provider: arm-cca-guest not loaded, or not a realm)"; return 1; }
  [ -f $r/provider ] || { echo "CCA-TOKEN-FAILED no provider file in $r"; return 1; }
  provider=$(cat $r/provider) || { echo "CCA-TOKEN-FAILED no TSM provider (reading $r/provider failed)"; return 1; }
  cat /tmp/challenge >$r/inblob || { echo "CCA-TOKEN-FAILED writing $r/inblob failed ($provider)"; return 1; }
  cat $r/outblob >/tmp/token || { echo "CCA-TOKEN-FAILED reading $r/outblob failed ($provider)"; return 1; }
  n=$(wc -c </tmp/token)
  [ "$n" -gt 0 ] || { echo "CCA-TOKEN-FAILED empty outblob ($provider)"; return 1; }
  echo "CCA-TOKEN-BYTES $n"
  echo "CCA-TOKEN-BEGIN"
  hexdump -v -e '32/1 "%02x" "\n"' /tmp/token | tr -d ' '
  echo "CCA-TOKEN-END"
  rmdir $r
}
attest
echo "INIT-DONE"

if [ $initshell = 1 ]; then
  command -v cttyhack >/dev/null && exec setsid cttyhack sh
  exec sh
fi
poweroff -f
echo "INIT-POWEROFF-FAILED"
exit 1
"""

NAME_OK = re.compile(r"^[A-Za-z0-9_.+-]+\.ko$")


def die(msg):
    sys.stderr.write(f"[mkinitramfs.py] ERROR: {msg}\n")
    sys.exit(1)


def newc_entry(ino, name, mode, data=b"", nlink=1, rdev=(0, 0)):
    """One newc record: the 110-byte "070701" header, the name with its NUL padded to 4
    bytes, the data padded to 4 bytes."""
    fields = (ino, mode, 0, 0, nlink, MTIME, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0)
    head = b"070701" + b"".join(b"%08x" % f for f in fields) + name.encode() + b"\0"
    return head + b"\0" * (-len(head) % 4) + data + b"\0" * (-len(data) % 4)


def build_cpio(entries):
    """entries: {path: (mode, data, rdev)}; written sorted by path (a parent sorts before
    its children), inode numbers 1.. in that order, then the trailer."""
    out = [newc_entry(i, path, mode, data, 2 if stat.S_ISDIR(mode) else 1, rdev)
           for i, (path, (mode, data, rdev)) in enumerate(sorted(entries.items()), 1)]
    out.append(newc_entry(0, "TRAILER!!!", 0))
    return b"".join(out)


def gzip_bytes(data):
    """RFC 1952 framing with fixed fields (no name, mtime 0, XFL 2, OS 255 'unknown'):
    Python's own gzip module has written different header bytes in different versions."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    body = c.compress(data) + c.flush()
    return (b"\x1f\x8b\x08\x00" + struct.pack("<I", 0) + b"\x02\xff" + body +
            struct.pack("<II", zlib.crc32(data) & 0xffffffff, len(data) & 0xffffffff))


def parse_cpio(raw):
    """Yields (name, mode, size, rdevmajor, rdevminor, data) for each record up to the trailer."""
    off = 0
    while True:
        if raw[off:off + 6] != b"070701":
            die(f"no newc header at offset {off}")
        f = [int(raw[off + 6 + 8 * i:off + 14 + 8 * i], 16) for i in range(13)]
        mode, size, rmaj, rmin, namesize = f[1], f[6], f[9], f[10], f[11]
        name = raw[off + 110:off + 110 + namesize - 1].decode()
        off += 110 + namesize
        off += -off % 4
        data = raw[off:off + size]
        off += size
        off += -off % 4
        if name == "TRAILER!!!":
            return
        yield name, mode, size, rmaj, rmin, data


def list_archive(path):
    blob = open(path, "rb").read()
    raw = zlib.decompress(blob, 47) if blob[:2] == b"\x1f\x8b" else blob   # 47: gzip or zlib
    n = 0
    for name, mode, size, rmaj, rmin, data in parse_cpio(raw):
        n += 1
        extra = ""
        if stat.S_ISLNK(mode):
            extra = " -> " + data.decode()
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            extra = f" ({rmaj},{rmin})"
        print(f"{stat.filemode(mode)} {size:9d} /{name}{extra}")
    print(f"{n} entries, {len(raw)} bytes of cpio, {len(blob)} bytes in {os.path.basename(path)}")


def main():
    ap = argparse.ArgumentParser(description="Builds the Linux realm guest's initramfs (newc cpio, gzip).")
    ap.add_argument("out", metavar="OUT.cpio.gz", help="the archive to write (with --list alone: to list)")
    ap.add_argument("--busybox", help="the static arm64 busybox binary")
    ap.add_argument("--modules-dir", help="the directory holding the --module files")
    ap.add_argument("--module", action="append", default=[], metavar="M.ko",
                    help="a module to put under /lib/modules and load, in load order (repeatable)")
    ap.add_argument("--list", action="store_true", help="list the archive's entries (after writing it, if building)")
    a = ap.parse_args()

    if a.busybox is None:
        if not a.list:
            ap.error("--busybox is required to build an archive (or use --list ARCHIVE)")
        if a.module or a.modules_dir:
            ap.error("--module/--modules-dir need --busybox")
        list_archive(a.out)
        return

    if a.module and not a.modules_dir:
        ap.error("--module needs --modules-dir")
    bb = open(a.busybox, "rb").read()
    if bb[:4] != b"\x7fELF" or struct.unpack_from("<H", bb, 18)[0] != 183:
        die(f"{a.busybox} is not an aarch64 ELF")

    d = stat.S_IFDIR | 0o755
    entries = {p: (d, b"", (0, 0)) for p in
               ("bin", "dev", "etc", "lib", "lib/modules", "proc", "sbin", "sys", "usr", "usr/bin", "usr/sbin")}
    entries["tmp"] = (stat.S_IFDIR | 0o1777, b"", (0, 0))
    entries["root"] = (stat.S_IFDIR | 0o700, b"", (0, 0))
    entries["dev/console"] = (stat.S_IFCHR | 0o600, b"", (5, 1))
    entries["bin/busybox"] = (stat.S_IFREG | 0o755, bb, (0, 0))
    entries["bin/sh"] = (stat.S_IFLNK | 0o777, b"busybox", (0, 0))
    seen = set()
    for m in a.module:
        name = os.path.basename(m)
        if not NAME_OK.match(name):
            die(f"module file name {name!r}: expected NAME.ko (letters, digits, _ . + -)")
        if name in seen:
            die(f"module {name} given twice")
        seen.add(name)
        path = os.path.join(a.modules_dir, m)
        try:
            data = open(path, "rb").read()
        except OSError as e:
            die(f"module {m}: {e.strerror} ({path})")
        if data[:4] != b"\x7fELF":
            die(f"{path} is not an ELF module (compressed? scripts/fetch-linux decompresses them)")
        entries["lib/modules/" + name] = (stat.S_IFREG | 0o644, data, (0, 0))
    init = INIT.replace("@MODULES@", " ".join(os.path.basename(m) for m in a.module))
    entries["init"] = (stat.S_IFREG | 0o755, init.encode(), (0, 0))

    blob = gzip_bytes(build_cpio(entries))
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(blob)
    os.replace(tmp, a.out)
    if a.list:
        list_archive(a.out)


if __name__ == "__main__":
    main()
