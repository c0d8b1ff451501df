#!/usr/bin/env python3
"""Writes the seed inputs in fuzz/seeds/ (byte encodings of the targets' decoders).
Run from anywhere: python3 fuzz/make-seeds.py"""
import os, struct
here = os.path.dirname(os.path.abspath(__file__))

def put(target, name, data):
    d = os.path.join(here, "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes(data))

def u64(v): return list(struct.pack("<Q", v & (2**64 - 1)))

# ---- rmi_dispatcher: a host building and running a realm (see fuzz/rmi_dispatcher.swift)
RD, ROOT, PARAMS, RECPARAMS, SOURCE, RUN = 16, 32, 0, 1, 2, 3
HIST_RD = [1, 0]                      # object(): history[0] is the RD
small0 = [3, 0]                       # argument(): small number 0
def arg_granule(i): return [0, i]
def rmi(index, *args): return [0, index] + [b for a in args for b in a]   # op 0, command allCommands[index]
CMD = {c: i for i, c in enumerate("""version granuleDelegate granuleUndelegate dataCreate dataCreateUnknown dataDestroy
realmActivate realmCreate realmDestroy recCreate recDestroy recEnter rttCreate rttDestroy rttMapUnprotected
rttReadEntry rttUnmapUnprotected psciComplete features rttFold recAuxCount rttInitRIPAS rttSetRIPAS""".split())}

build = []
build += [7, 0, PARAMS, RD, 8, 1, 0, 0, 0, 1, ROOT] + [0] * 8          # realm: s2sz 40, level 1, 2 roots
build += [7, 2] + HIST_RD + [40, 0x00, 2]                              # RTT level 2 at IPA 0
build += [7, 2] + HIST_RD + [41, 0x00, 3]                              # RTT level 3 at IPA 0
build += [7, 4] + HIST_RD + [0x00, 0x41, 1]                            # INIT_RIPAS [0, 2 MiB)
build += [7, 3] + HIST_RD + [42, SOURCE, 0, 0x01, 0]                   # DATA_CREATE at 0x1000
build += [7, 3] + HIST_RD + [43, 0, 1, 0x02]                           # DATA_CREATE_UNKNOWN at 0x2000
build += [7, 1, RECPARAMS] + HIST_RD + [0, 1, 0] + small0 + [44, 45, 46]  # REC (aux 44, 45) at 46
put("rmi_dispatcher", "build-realm", build)

run = build + [7, 4] + HIST_RD + [0x03, 0x04, 0]                        # INIT_RIPAS, ACTIVATE
run += [5, RUN, 2, 0] + small0 * 4 + [0]                               # run page
run += [6, 0, 0x00, 0] + small0 * 3                                    # exit: RSI_VERSION
run += [6, 0, 0x00, 9] + small0 * 3                                    # exit: RSI_HOST_CALL
run += rmi(CMD["recEnter"], arg_granule(46), arg_granule(RUN), small0, small0, small0)
run += rmi(CMD["recEnter"], arg_granule(46), arg_granule(RUN), small0, small0, small0)
run += rmi(CMD["rttMapUnprotected"], HIST_RD and [1, 0], [2, 0xA0], [3, 3], [3, 0], small0)
run += rmi(CMD["rttReadEntry"], [1, 0], [2, 0x01], [3, 3], small0, small0)
run += rmi(CMD["dataDestroy"], [1, 0], [2, 0x01], small0, small0, small0)
run += rmi(CMD["rttUnmapUnprotected"], [1, 0], [2, 0xA0], [3, 3], small0, small0)
run += rmi(CMD["recDestroy"], arg_granule(46), small0, small0, small0, small0)
run += rmi(CMD["rttDestroy"], [1, 0], [2, 0x00], [3, 3], small0, small0)
run += rmi(CMD["realmDestroy"], [1, 0], small0, small0, small0, small0)
put("rmi_dispatcher", "realm-lifecycle", run)

# The commands the life cycle above does not reach. A smaller realm (RIPAS RAM over
# [0, 32 KiB) only: RTT_INIT_RIPAS measures each entry, and the fuzzer mutates these seeds
# millions of times), two RECs (MPIDR 0 runnable at 46, MPIDR 1 stopped at 49).
def realm(*rtts):                     # realm, then RTT macros (granule, IPA byte, level)
    out = [7, 0, PARAMS, RD, 8, 1, 0, 0, 0, 1, ROOT] + [0] * 8
    for g, ipa, level in rtts: out += [7, 2] + HIST_RD + [g, ipa, level]
    return out
def rec(mpidr, runnable, aux0, aux1, g):
    return [7, 1, RECPARAMS] + HIST_RD + [mpidr, runnable, 0] + small0 + [aux0, aux1, g]
small = realm((40, 0x00, 2), (41, 0x00, 3)) + [7, 4] + HIST_RD + [0x00, 0x08, 1]   # INIT_RIPAS [0, 32 KiB)
small += rec(0, 1, 44, 45, 46) + rec(1, 0, 47, 48, 49)
small += rmi(CMD["realmActivate"], [1, 0], small0, small0, small0, small0)
small += [5, RUN, 2, 0] + small0 * 4 + [0]                                         # run page
def enter(g): return rmi(CMD["recEnter"], arg_granule(g), arg_granule(RUN), small0, small0, small0)
UNPROTECTED = 0xA0                    # ipa(): 1 << 39, the unprotected half of s2sz 40

# RTT_FOLD: a level-3 RTT just created from an unassigned level-2 entry is homogeneous;
# the same in the unprotected half (unassigned NS entries).
fold = realm((40, 0x00, 2), (41, 0x00, 3), (42, UNPROTECTED, 2), (43, UNPROTECTED, 3))
fold += rmi(CMD["rttFold"], [1, 0], [2, 0x00], [3, 3], small0, small0)
fold += rmi(CMD["rttFold"], [1, 0], [2, UNPROTECTED], [3, 3], small0, small0)
put("rmi_dispatcher", "rtt-fold", fold)

# RTT_MAP_UNPROTECTED then RTT_UNMAP_UNPROTECTED: a 2 MiB NS block at IPA 1 << 39.
unmap = realm((42, UNPROTECTED, 2))
unmap += rmi(CMD["rttMapUnprotected"], [1, 0], [2, UNPROTECTED], [3, 2], [5] + u64(0x8000_0000), small0)
unmap += rmi(CMD["rttReadEntry"], [1, 0], [2, UNPROTECTED], [3, 2], small0, small0)
unmap += rmi(CMD["rttUnmapUnprotected"], [1, 0], [2, UNPROTECTED], [3, 2], small0, small0)
put("rmi_dispatcher", "unmap-unprotected", unmap)

# RTT_SET_RIPAS: REC 0 asks RSI_IPA_STATE_SET([0x1000, 0x3000), EMPTY), the host applies
# it, and REC 0 is entered again to see the result.
ripas = small + [6, 0, 0x00, 7, 2, 0x01, 2, 0x03, 3, 0]
ripas += enter(46)
ripas += rmi(CMD["rttSetRIPAS"], [1, 0], arg_granule(46), [2, 0x01], [2, 0x03], small0)
ripas += enter(46)
put("rmi_dispatcher", "set-ripas", ripas)

# PSCI_COMPLETE: REC 0 calls PSCI_CPU_ON(MPIDR 1, entry 0); the host accepts, and REC 1 runs.
psci = small + [6, 0, 0x00, 13, 3, 1, 3, 0, 3, 0]
psci += enter(46)
psci += rmi(CMD["psciComplete"], arg_granule(46), arg_granule(49), small0, small0, small0)
psci += enter(49)
put("rmi_dispatcher", "psci-complete", psci)

# ---- run_page: see fuzz/run_page.swift (state byte, then the run page)
# Round: exits byte, exits (kind byte, [esr byte], ipa byte, FID index, 3 arguments), mode, 392-byte page.
page0 = [0] * 392
def rnd(exits, mode, flags=0): return [len(exits)] + sum(exits, []) + [mode] + u64(flags) + page0[8:]
host_call = [0x00, 0x00, 9, 2, 0x01] + small0 * 2             # SMC RSI_HOST_CALL
mmio = [0x20, 0x40, 0xA0, 0] + small0 * 3               # data abort (ISV, write) at the unprotected IPA 1 << 39
cpu_on = [0x00, 0x00, 13, 3, 1, 3, 0, 3, 0]             # SMC PSCI_CPU_ON(mpidr 1, entry 0)
ripas = [0x00, 0x00, 7, 3, 0, 2, 0x41, 3, 1]             # RSI_IPA_STATE_SET [0, 2 MiB) RAM
put("run_page", "plain-enter", rnd([], 1))
put("run_page", "host-call", rnd([host_call], 1) + rnd([], 1))
put("run_page", "mmio-emulated", rnd([mmio], 1) + rnd([], 1, 1))
put("run_page", "mmio-sea", rnd([mmio], 1) + rnd([], 1, 2))
put("run_page", "psci-cpu-on", rnd([cpu_on], 1) + rnd([], 5))
put("run_page", "ripas-change", rnd([ripas], 1) + rnd([], 1) + rnd([ripas], 1) + rnd([], 1, 0x10))

# ---- boot_manifest: page PA, then the page (TF-A 2.12 layout: see BootManifestLayout)

def le(words): return sum((u64(w) for w in words), [])

# ---- boot_manifest: page PA, then the page (BootManifestLayout: TF-A 2.12 v0.3 manifest)
pa = 0x4000_0000
banks = [(0x4000_0000, 0x4000_0000), (0x1_0000_0000, 0x2000_0000)]
console = (0x900_0000, 1, 0x0000_0031_3130_6C70, 24_000_000, 115_200, 0)
hdr = [(0 << 16) | 3, 0, len(banks), pa + 64, 0, 1, pa + 64 + 16 * len(banks), 0]
hdr[4] = -(len(banks) + hdr[3] + sum(b + s for b, s in banks))
hdr[7] = -(1 + hdr[6] + console[0] + console[1] + console[3] + console[4])
page = le(hdr) + le([w for b in banks for w in b]) + le(console)
put("boot_manifest", "qemu", u64(pa) + page)

# ---- realm_params: feature register (even: the fakes'), max VMID, page
rp = [0] * 512
rp[0x008 // 8], rp[0x018 // 8], rp[0x020 // 8], rp[0x800 // 8] = 40, 2, 2, 7
rp[0x808 // 8], rp[0x810 // 8], rp[0x818 // 8] = 0x8002_0000, 1, 2
put("realm_params", "s2sz40-level1", u64(0) + [0xFF, 0xFF] + le(rp))

# ---- rec_params: page
rc = [0] * 512
rc[0], rc[0x100 // 8], rc[0x200 // 8], rc[0x800 // 8], rc[0x808 // 8], rc[0x810 // 8] = 1, 0x0102_0301, 0x1000, 2, 0x8004_0000, 0x8004_1000
put("rec_params", "runnable", le(rc))

# ---- audit_decoder: mode 1 (records), ring capacity 2^3
def word0(seq, cpu, direction, allowed, purpose, state): return seq | cpu << 32 | direction << 40 | allowed << 41 | purpose << 48 | state << 56
recs = [word0(1, 0, 1, 1, 1, 1), 0xC400_0151 | 4096 << 32, 0x8000_0000, 0, 0,
        word0(2, 0, 0, 1, 10, 0), 0xC400_0158 | 4096 << 32, 0x8000_1000, 0, 0x8001_0000,
        word0(4, 1, 0, 0, 3, 5), 0xC400_0199 | 256 << 32, 0x8002_a000, 0x1000, 0x8001_0000]
put("audit_decoder", "records", [1, 3] + le(recs) + [2, 0])
put("audit_decoder", "log", [0] + list(b"boot\nAUDIT 0x0002010100000001 0x00001000c4000151 0x0000000080000000 0x0 0x0\nAUDIT-STATS violations=0 records=1 lost=0\n"))
