#!/usr/bin/env python3
# A throwing Swift function must not end in a tail call to memcpy/memmove/memset.
# Swift 6.3.1's LLVM lowers those libcalls as tail calls even out of functions with a
# swifterror result (swiftlang/swift#90477, fixed upstream in llvm-project #214590):
# the branch skips the epilogue that clears x21, and the caller reads the stale x21
# as a thrown error (we hit it: the shared page write "failed" with no refusal).
# Usage: check_swifterror_tailcalls.py DISASSEMBLY; prints offenders, exits 1 if any.
import re,sys
fn=None; body={}; order=[]
for line in open(sys.argv[1]):
    m=re.match(r'^([0-9a-f]+) <(.*)>:$', line)
    if m: fn=m.group(2); body[fn]=[]; order.append(fn); continue
    if fn and '\t' in line: body[fn].append(line)
mem=('memcpy','memmove','memset')
def tail_targets(f):
    t=[]
    for l in body[f]:
        m=re.search(r'\tb\t0x[0-9a-f]+ <([^>+]+)>', l)
        if m: t.append(m.group(1))
    return t
def reaches_mem(f, depth=0):
    if depth>3 or f not in body: return False
    for t in tail_targets(f):
        if t in mem: return True
        if t.startswith('OUTLINED_FUNCTION') and reaches_mem(t, depth+1): return True
    return False
bad=[f for f in order if f.startswith('$e') and ('YK' in f or re.search(r'K[Fl]',f)) and reaches_mem(f)]
for f in bad: print(f[:150])
sys.exit(1 if bad else 0)
