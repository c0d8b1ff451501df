#!/usr/bin/env python3
"""Instruction counts per signing call, from callgrind dumps (scripts/check-constant-time).

    ct_counts.py [--quiet] [--label TEXT] <binary> <dump>...

Each dump holds one API call of Sources/RMMCrypto/test/ct_harness.c in "callgrind" mode
(trigger "<label> <call> <n>": public-key, start, step 1..N, finish), recorded with
--separate-callers (every function's cost per full call chain) and --dump-instr=yes.
Each instruction's cost is attributed to the functions it runs in: the real call chain
plus, from the harness's debug information (addr2line -i, harness built without PIE),
the functions inlined at its address and at every call site above it. So a function
counts the same whether or not the compiler inlined it.

Every call's cost is split into
  V  the parts docs/CRYPTO.md lists as variable time (VARIABLE below),
  H  the arena allocator (rmm_crypto_calloc/free) called from the other parts: its
     first-fit walk depends on the heap layout, which follows the sizes of the field
     arithmetic's bignums (a carry into a seventh limb, ...),
  CT everything else, which must cost the same for every key, digest (so nonce) and
     blinding seed.
Prints the table; exit status 1 if a CT part or the number of steps differs, or if a
cost cannot be attributed.
"""
import argparse
import collections
import re
import subprocess
import sys

# docs/CRYPTO.md, "Not constant time": each function's whole cost, callees included.
VARIABLE = {
    # Field arithmetic of the scalar multiplication on the blinded (re-randomised)
    # Jacobian coordinates: correction loops, sign tests, leading-zero skips.
    "ecp_double_jac": "field arithmetic",
    "ecp_add_mixed": "field arithmetic",
    "ecp_randomize_jac": "field arithmetic",
    "ecp_normalize_jac": "field arithmetic",
    # 1 <= x < n for the scalar (sign_start, the public key) and the nonce (start of the
    # multiplication): limb comparisons from the top.
    "mbedtls_ecp_check_privkey": "range check",
    # Public results: the public key written out (x, y).
    "mbedtls_ecp_write_public_key": "public output",
}
# The comb's parity fix, range-check kind: ecp_comb_recode_scalar copies the scalar
# (to its significant limbs), computes n - scalar (limb scans from the top), and assigns
# one to the other in constant time (which first grows the shorter copy). Their cost
# depends on how many top limbs of the scalar are 0 (or all ones); the digit recoding
# itself is CT.
PARITY_FIX = ("ecp_comb_recode_scalar", {"mbedtls_mpi_copy", "mbedtls_mpi_sub_mpi", "mbedtls_mpi_safe_cond_assign"})
HEAP = {"rmm_crypto_calloc", "rmm_crypto_free"}
# Constant-time parts shown on their own (CT cost within them, whole signature).
SHOWN = {
    "sign_seed_nonce": "RFC 6979 DRBG seeding",
    "mbedtls_ecp_gen_privkey": "nonce candidate",
    "ecp_comb_recode_core": "comb recoding",
    "ecp_select_comb": "table lookups",
    "sign_final": "last step",
}
RELEVANT = set(VARIABLE) | HEAP | set(SHOWN) | {"parity-fix"}


def parse(path):
    """trigger, self costs [(context, object, address, cost)], calls [(context, object, site, callee, cost)]"""
    trigger, selfs, calls = None, [], []
    ob, fn, cfn, cob, after_calls = None, None, None, None, False
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("desc: Trigger: Client Request: "):
                trigger = line[len("desc: Trigger: Client Request: "):]
            elif line.startswith("ob="):
                ob = line[3:]
            elif line.startswith("fn="):
                fn, cob = line[3:], None
            elif line.startswith("cob="):
                cob = line[4:]
            elif line.startswith("cfn="):
                cfn = line[4:]
            elif line.startswith("calls="):
                after_calls = True
            elif line.startswith("0x"):
                fields = line.split()
                address, cost = int(fields[0], 16), int(fields[-1])
                if after_calls:
                    calls.append((fn, ob, address, cfn, cost))
                else:
                    selfs.append((fn, ob, address, cost))
                after_calls = False
    return trigger, selfs, calls


def inline_chains(binary, addresses):
    """address -> set of function names at it (the function and all inlined into it there)."""
    chains = {}
    if not addresses:
        return chains
    out = subprocess.run(["addr2line", "-a", "-i", "-f", "-e", binary] + ["0x%x" % a for a in sorted(addresses)],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    i = 0
    while i < len(out):  # per address: "0x...", then (function, file:line) pairs
        current = int(out[i], 16)
        chains[current] = set()
        i += 1
        while i + 1 < len(out) and not re.fullmatch(r"0x[0-9a-f]+", out[i]):
            chains[current].add(out[i])
            i += 2
    return chains


def function_of(context):
    return context.split("'")[0]


def parent_of(context):
    return context.split("'", 1)[1] if "'" in context else None


def analyse(binary, selfs, calls, chains):
    """(CT, V by kind, H, shown by name, problems) for one dump."""
    def site_tags(ob, address):
        return chains.get(address, set()) & RELEVANT if ob == binary else set()

    # Tags of each context: its parent's, its own function's, and those of the call
    # sites in the parent that reach it (which must agree).
    edges = collections.defaultdict(set)
    for caller, ob, site, callee, _ in calls:
        tags = site_tags(ob, site)
        if PARITY_FIX[0] in chains.get(site, set()) and function_of(callee) in PARITY_FIX[1]:
            tags = tags | {"parity-fix"}
        edges[(caller, callee)].add(frozenset(tags))
    contexts = {c for c, _, _, _ in selfs} | {c for c, _, _, _, _ in calls}
    memo, problems = {}, []

    def tags_of(context):
        if context in memo:
            return memo[context]
        memo[context] = set()  # cycle guard (recursion is cut by the chain length anyway)
        parent = parent_of(context)
        tags = {function_of(context)} & RELEVANT
        if parent is not None:
            tags |= tags_of(parent)
            reaching = edges.get((parent, context), set())
            # Where the compiler inlined variable-time and other code into one function
            # and both call the same function (ecp_mul_comb_core: ecp_randomize_jac's and
            # its own mbedtls_mpi_init/free), that callee is counted as variable time.
            if len({t & (set(VARIABLE) | HEAP | {"parity-fix"}) for t in reaching}) > 1:
                problems.append(function_of(context) + " from " + function_of(parent))
            for t in reaching:
                tags |= t
        memo[context] = tags
        return tags

    ct, h = 0, 0
    v = collections.Counter()
    shown = collections.Counter()
    for context, ob, address, cost in selfs:
        tags = tags_of(context) | site_tags(ob, address)
        variable = sorted(VARIABLE[t] for t in tags if t in VARIABLE)
        if "parity-fix" in tags:
            variable.append("range check")
        if variable:
            v[variable[0]] += cost
        elif tags & HEAP:
            h += cost
        else:
            ct += cost
            for t in tags & set(SHOWN):
                shown[t] += cost
    return ct, v, h, shown, set(problems)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quiet", action="store_true", help="only the ok/FAIL lines")
    parser.add_argument("--label", default="", help="named in the ok/FAIL lines (the compiler)")
    parser.add_argument("binary")
    parser.add_argument("dumps", nargs="+")
    args = parser.parse_args()
    binary, dumps = args.binary, args.dumps
    say = (lambda line: None) if args.quiet else print
    tag = " (%s)" % args.label if args.label else ""
    parsed = [parse(d) for d in dumps]
    parsed = [p for p in parsed if p[0] and p[0] != "before"]
    addresses = {a for _, selfs, calls in parsed for _, ob, a, _ in selfs if ob == binary}
    addresses |= {a for _, selfs, calls in parsed for _, ob, a, _, _ in calls if ob == binary}
    chains = inline_chains(binary, addresses)

    table = collections.defaultdict(dict)  # call -> label -> (ct, v, h, shown)
    labels, failures, mixed_calls = [], 0, set()
    for trigger, selfs, calls in parsed:
        label, call, n = trigger.split()
        call = "step %s" % n if call == "step" else call
        if label not in labels:
            labels.append(label)
        ct, v, h, shown, mixed = analyse(binary, selfs, calls, chains)
        mixed_calls |= mixed
        table[call][label] = (ct, v, h, shown)

    steps = {l: sum(1 for c in table if c.startswith("step ") and l in table[c]) for l in labels}
    order = ["public-key", "start"] + ["step %d" % i for i in range(1, max(steps.values()) + 1)] + ["finish"]
    keys = [l for l in labels if l.startswith("v")]
    seeds = [l for l in labels if not l.startswith("v")]
    say("info instruction counts (Ir) per call, %d keys with their own digests (%s) and key v1 with %d other "
          "blinding seeds (%s)" % (len(keys), " ".join(keys), len(seeds), " ".join(seeds)))
    say("info CT: must be the same everywhere; H: arena allocator walks from the CT parts; V: documented variable-time")
    say("info %-10s %9s  %-21s  %-21s  %s" % ("call", "CT", "H min..max", "V min..max", "V by kind (key v0)"))
    for call in order:
        row = table.get(call, {})
        if set(row) != set(labels):
            print("FAIL%s %s: not reached for %s" % (tag, call, ", ".join(sorted(set(labels) - set(row)))))
            failures += 1
            continue
        ct = {l: row[l][0] for l in labels}
        hs = [row[l][2] for l in labels]
        vs = [sum(row[l][1].values()) for l in labels]
        kinds = ", ".join("%s %d" % (k, c) for k, c in sorted(row[labels[0]][1].items())) or "-"
        span = lambda xs: "%d..%d" % (min(xs), max(xs)) if min(xs) != max(xs) else "%d (all)" % xs[0]
        if len(set(ct.values())) == 1:
            say("info %-10s %9d  %-21s  %-21s  %s" % (call, ct[labels[0]], span(hs), span(vs), kinds))
        else:
            print("FAIL instruction counts%s: %s: CT part differs: %s" % (tag, call, " ".join("%s=%d" % (l, ct[l]) for l in labels)))
            failures += 1
    totals = {l: sum(row[l][0] + row[l][2] + sum(row[l][1].values()) for c, row in table.items()
                     if c != "public-key" and l in row) for l in labels}
    say("info signature (start, steps, finish) in total: %d..%d Ir" % (min(totals.values()), max(totals.values())))
    for name, what in SHOWN.items():
        per = {l: sum(row[l][3][name] for c, row in table.items() if c != "public-key" and l in row) for l in labels}
        say("info   CT within %-22s %s" % (what + " (" + name + "):", "%d Ir, every signature" % per[labels[0]]
                                                 if len(set(per.values())) == 1 else
                                                 "differs: " + " ".join("%s=%d" % (l, per[l]) for l in labels)))
    if "v1" in labels and seeds:
        vv = {l: sum(sum(row[l][1].values()) for c, row in table.items() if c != "public-key" and l in row)
              for l in ["v1"] + seeds}
        say("info V of one signature, key v1 and its digest with 3 blinding seeds: %s (%s)" % (
            " ".join("%d" % vv[l] for l in vv),
            "the blinding alone changes it" if len(set(vv.values())) == len(vv) else "NOT all different"))
    if mixed_calls:
        say("info counted as V (called both from inlined variable-time code and from the function it is inlined in): "
              + ", ".join(sorted(mixed_calls)))
    if len(set(steps.values())) != 1:
        print("FAIL instruction counts%s: number of steps differs: %s" % (tag, steps))
        failures += 1
    if failures == 0:
        print("ok   instruction counts%s: the constant-time part of every call (public key, start, %d steps, finish) "
              "is identical for %d keys and digests and %d more blinding seeds" % (tag, steps[labels[0]], len(keys), len(seeds)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
