#!/usr/bin/env python3
"""Recomputes the RIM of the integration suite's test realm from its image and the
parameters the NS test payload builds it with (Sources/TestHost/RealmRunner.swift,
build()), following the RMM specification's measurement descriptors (DEN0137 1.0,
A7.1): written independently of the RMM's Swift code, so that the RIM claim in the
attestation token is checked against a value the RMM did not compute.

  realm_rim.py --image build/qemu/testrealm.bin   -> prints the RIM in hex

And of the Linux realm the VMM builds (Sources/TestHost/LinuxRealm.swift, build()):

  realm_rim.py --linux-kernel Image --linux-initrd initramfs.cpio.gz --linux-log linux.log
               [--linux-ram-mib 128]
The device tree is the one the VMM generated and printed (LINUX_DTB lines of the log).
"""
import argparse
import hashlib
import struct
import sys

GRANULE = 4096


def u64(*values):
    return b"".join(struct.pack("<Q", v) for v in values)


def slot(digest):
    """A measurement in its 64-byte slot (zero padded)."""
    return digest + bytes(64 - len(digest))


def measure_data(H, rim, data, ipa):
    """RMI_DATA_CREATE (measured) of every granule of `data` at `ipa`, the last one
    zero padded (the VMM zeroes the tail before the copy)."""
    data += bytes(-len(data) % GRANULE)
    for i in range(len(data) // GRANULE):
        content = H(data[i * GRANULE:(i + 1) * GRANULE])
        desc = u64(0, 0x100) + slot(rim) + u64(ipa + i * GRANULE, 1) + slot(content)
        rim = H(desc + bytes(0x100 - len(desc)))
    return rim


def measure_rec(H, rim, pc, gprs):
    """RMI_REC_CREATE of a runnable REC: flags, pc and x0-x7 of RmiRecParams."""
    rec = bytearray(GRANULE)
    rec[0x000:0x008] = u64(1)
    rec[0x200:0x208] = u64(pc)
    rec[0x300:0x340] = u64(*(list(gprs) + [0] * (8 - len(gprs))))
    desc = u64(1, 0x100) + slot(rim) + slot(H(bytes(rec)))
    return H(desc + bytes(0x100 - len(desc)))


def linux_rim(args, H):
    """The Linux realm: s2sz 40, SVE and PMU as logged, 1 breakpoint, 1 watchpoint, SHA-256; RAM RIPAS RAM with
    level-3 tables everywhere; kernel at the start of RAM, initramfs 64 MiB in, device
    tree in the last 2 MiB; REC 0 at the kernel with x0 = the device tree."""
    ram_base, ram_size = 0x4000_0000, args.linux_ram_mib << 20
    # The measured flags, sve_vl and pmu_num_ctrs as the VMM chose them (its
    # LINUX_REALM_PARAMS line).
    flags, sve_vl, pmu = 0, 0, 0
    for line in open(args.linux_log, errors="replace"):
        if line.startswith("LINUX_REALM_PARAMS "):
            fields = line.split()
            flags, sve_vl = int(fields[2]), int(fields[4])
            pmu = int(fields[6]) if len(fields) > 6 else 0
    params = u64(flags, 40, sve_vl, 1, 1, pmu, 0)
    rim = H(params + bytes(GRANULE - len(params)))
    for base in range(ram_base, ram_base + ram_size, GRANULE):
        desc = u64(2, 0x100) + slot(rim) + u64(base, base + GRANULE)
        rim = H(desc + bytes(0x100 - len(desc)))
    rim = measure_data(H, rim, open(args.linux_kernel, "rb").read(), ram_base)
    if args.linux_initrd:
        rim = measure_data(H, rim, open(args.linux_initrd, "rb").read(), ram_base + 0x0400_0000)
    tree = bytes.fromhex("".join(line.split()[1] for line in open(args.linux_log, errors="replace")
                                 if line.startswith("LINUX_DTB ")))
    if not tree:
        sys.exit("realm_rim.py: no LINUX_DTB lines in " + args.linux_log)
    dtb_ipa = ram_base + ram_size - 0x20_0000
    rim = measure_data(H, rim, tree, dtb_ipa)
    return measure_rec(H, rim, ram_base, [dtb_ipa])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", help="the realm image (testrealm.bin)")
    ap.add_argument("--hash", default="sha256", choices=["sha256", "sha512"])
    ap.add_argument("--linux-kernel")
    ap.add_argument("--linux-initrd")
    ap.add_argument("--linux-log")
    ap.add_argument("--linux-ram-mib", type=int, default=128)
    args = ap.parse_args()
    H = lambda data: hashlib.new(args.hash, data).digest()
    algorithm = 0 if args.hash == "sha256" else 1
    if args.linux_kernel:
        print(linux_rim(args, H).hex())
        return 0
    if not args.image:
        ap.error("--image or --linux-kernel")

    # RMI_REALM_CREATE: RmiRealmParams, zero except the measured fields
    # (flags 0, s2sz 40, sve_vl 0, num_bps 1, num_wps 1, pmu_num_ctrs 0, hash_algo).
    params = u64(0, 40, 0, 1, 1, 0, algorithm)
    rim = H(params + bytes(GRANULE - len(params)))

    # RMI_RTT_INIT_RIPAS [0, 2 MiB): one descriptor per level-3 entry.
    for base in range(0, 0x20_0000, GRANULE):
        desc = u64(2, 0x100) + slot(rim) + u64(base, base + GRANULE)
        rim = H(desc + bytes(0x100 - len(desc)))

    # RMI_DATA_CREATE (measured) of every page of the image, padded to whole granules.
    image = open(args.image, "rb").read()
    image += bytes(-len(image) % GRANULE)
    for i in range(len(image) // GRANULE):
        content = H(image[i * GRANULE:(i + 1) * GRANULE])
        desc = u64(0, 0x100) + slot(rim) + u64(i * GRANULE, 1) + slot(content)
        rim = H(desc + bytes(0x100 - len(desc)))
    # DATA_CREATE_UNKNOWN of the rest is not measured.

    # RMI_REC_CREATE of REC 0 (runnable, pc 0, x0 0x1111, x1 0x2222, x2 0 = tests);
    # REC 1 is created not runnable, which is not measured.
    rec = bytearray(GRANULE)
    rec[0x000:0x008] = u64(1)
    rec[0x200:0x208] = u64(0)
    rec[0x300:0x340] = u64(0x1111, 0x2222, 0, 0, 0, 0, 0, 0)
    desc = u64(1, 0x100) + slot(rim) + slot(H(bytes(rec)))
    rim = H(desc + bytes(0x100 - len(desc)))
    print(rim.hex())


if __name__ == "__main__":
    sys.exit(main())
