// The gate: the only way the RMM reaches memory by physical address. Each access
// checks the access policy, maps the one granule in a per-CPU slot of the high
// window, runs, and unmaps it again (local TLB invalidation: the slot VA belongs
// to this CPU alone). There is no flat map of DRAM anywhere.

import AArch64Shim
import RMMCore

/// How deep each CPU's slot stack is (nested accesses take the next slot).
nonisolated(unsafe) var slotDepth: InlineArray<32, UInt8> = .init(repeating: 0)

@inline(__always) func currentCPU() -> Int { Int(truncatingIfNeeded: read_tpidr_el2()) }

/// One mapped granule. Offsets are checked: a bad one traps (a bug), never strays.
struct SlotPage: WritablePage {
  let base: UInt

  mutating func storeBytes(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
    precondition(offset >= 0 && bytes.count <= 4096 - offset)
    guard let source = bytes.baseAddress, bytes.count > 0 else { return }
    UnsafeMutableRawPointer(bitPattern: base + UInt(offset))!.copyMemory(from: source, byteCount: bytes.count)
  }

  mutating func fillWords(first: UInt64, step: UInt64) {
    rmm_fill_page(UInt64(base), first, step)
  }

  func firstWord(from start: Int, withAnyOf mask: UInt64) -> Int {
    precondition(start >= 0 && start <= 512)
    let words = UnsafePointer<UInt64>(bitPattern: base)!
    var index = start
    // Four words a step while that many are left: an RTT scan is mostly empty entries.
    while index + 4 <= 512 {
      if (words[index] | words[index + 1] | words[index + 2] | words[index + 3]) & mask != 0 { break }
      index += 4
    }
    while index < 512 && words[index] & mask == 0 { index += 1 }
    return index
  }

  func loadWords(at offset: Int, into destination: UnsafeMutableRawBufferPointer) {
    precondition(offset >= 0 && offset & 7 == 0 && destination.count <= 4096 - offset)
    guard let target = destination.baseAddress, destination.count > 0 else { return }
    target.copyMemory(from: UnsafeRawPointer(bitPattern: base + UInt(offset))!, byteCount: destination.count)
  }

  func load64(at offset: Int) -> UInt64 {
    precondition(offset >= 0 && offset < 4096 && offset & 7 == 0)
    return UnsafePointer<UInt64>(bitPattern: base + UInt(offset))!.pointee
  }

  mutating func store64(_ value: UInt64, at offset: Int) {
    precondition(offset >= 0 && offset < 4096 && offset & 7 == 0)
    UnsafeMutablePointer<UInt64>(bitPattern: base + UInt(offset))!.pointee = value
  }
}

struct SlotGate: PhysicalMemoryGate {
  typealias MappedPage = SlotPage

  func withRealmGranule<Result>(
    _ granule: borrowing LockedGranule, _ intent: AccessIntent, _ body: (inout SlotPage) -> Result
  ) throws(GateError) -> Result {
    let allowed = AccessPolicy.permits(intent, actualState: granule.state)
    audit(granule.pa, intent, granule.state, allowed: allowed)
    guard allowed else { throw .policyViolation }
    let va = mapSlot(granule.pa, addressSpace: .realm)
    var page = SlotPage(base: UInt(va))
    let result = body(&page)
    unmapSlot(va)
    return result
  }

  func writeRealmGranule(_ granule: borrowing LockedGranule, _ intent: AccessIntent,
                         from contents: inout PageBuffer) throws(GateError) {
    let allowed = AccessPolicy.permits(intent, actualState: granule.state)
    audit(granule.pa, intent, granule.state, allowed: allowed)
    guard allowed else { throw .policyViolation }
    let va = mapSlot(granule.pa, addressSpace: .realm)
    withUnsafeBytes(of: &contents) { rmm_copy_page(va, UInt64(UInt(bitPattern: $0.baseAddress!))) }
    unmapSlot(va)
  }

  func scrubRealmGranule(_ granule: borrowing LockedGranule, _ intent: AccessIntent) throws(GateError) {
    let allowed = AccessPolicy.permits(intent, actualState: granule.state)
    audit(granule.pa, intent, granule.state, allowed: allowed)
    guard allowed else { throw .policyViolation }
    let va = mapSlot(granule.pa, addressSpace: .realm)
    // The delegation scrub is the first touch of the PA: it alone may find no memory.
    let aborted = intent.purpose == .delegateScrub ? rmm_zero_new_granule(va) != 0 : { rmm_zero_page(va); return false }()
    unmapSlot(va)
    if aborted { throw .realmAccessAbort }
  }

  func noteCall(function: UInt64, realm: UInt64, ipa: UInt64) {
    auditNote(function: function, realm: realm, ipa: ipa)
  }

  func copyToNonSecure<Buffer: BitwiseCopyable>(_ pa: UInt64, offset: Int, _ intent: AccessIntent,
                                                from buffer: inout Buffer) throws(GateError) {
    guard granuleTable.index(of: pa) != nil else {
      audit(pa, intent, nil, allowed: false)
      throw .notDRAM
    }
    let state = granuleTable.state(of: pa)
    let allowed = offset >= 0 && offset + Int(intent.length) <= 4096 && Int(intent.length) <= MemoryLayout<Buffer>.size
      && AccessPolicy.permits(intent, actualState: state)
    audit(pa, intent, state, allowed: allowed)
    guard allowed else { throw .policyViolation }
    let va = mapSlot(pa, addressSpace: .nonSecure)
    let faulted = withUnsafeMutableBytes(of: &buffer) { bytes in
      rmm_ns_copy(va + UInt64(offset), UInt64(UInt(bitPattern: bytes.baseAddress!)), UInt64(intent.length) & ~7)
    }
    unmapSlot(va)
    if faulted != 0 { throw .nonSecureAccessFault }
  }

  func copyFromNonSecure<Buffer: BitwiseCopyable>(_ pa: UInt64, _ intent: AccessIntent,
                                                  into buffer: inout Buffer) throws(GateError) {
    guard granuleTable.index(of: pa) != nil else {
      audit(pa, intent, nil, allowed: false)
      throw .notDRAM
    }
    let state = granuleTable.state(of: pa)
    let allowed = Int(intent.length) <= MemoryLayout<Buffer>.size && AccessPolicy.permits(intent, actualState: state)
    audit(pa, intent, state, allowed: allowed)
    guard allowed else { throw .policyViolation }
    let va = mapSlot(pa, addressSpace: .nonSecure)
    let faulted = withUnsafeMutableBytes(of: &buffer) { bytes in
      rmm_ns_copy(UInt64(UInt(bitPattern: bytes.baseAddress!)), va, UInt64(intent.length) & ~7)
    }
    unmapSlot(va)
    if faulted != 0 { throw .nonSecureAccessFault }
  }

  func withAuxiliaryWindow<Result>(
    _ order: InlineArray<16, UInt64>, count: Int, locked: borrowing GranuleLockSet, _ intent: AccessIntent,
    _ body: (UnsafeMutableRawBufferPointer) -> Result
  ) throws(GateError) -> Result {
    guard count > 0, count <= Int(RMM_AUX_WINDOW_PAGES) else { throw .policyViolation }
    // Every granule is checked and audited before any is mapped.
    var allowed = true
    for i in 0..<count {
      let state = locked.state(of: order[i])
      let permitted = AccessPolicy.permits(intent, actualState: state)
      audit(order[i], intent, state, allowed: permitted)
      allowed = allowed && permitted
    }
    guard allowed else { throw .policyViolation }
    let table = rmm_aux_window_l3()!
    for i in 0..<count { table[i] = order[i] | s1_normal_rw_attributes() }
    dsb_ishst()
    isb()
    let window = UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(bitPattern: UInt(RMM_AUX_WINDOW_VA)),
                                               count: count * 4096)
    let result = body(window)
    // The tables are this CPU's own: local invalidation is enough.
    for i in 0..<count { table[i] = 0 }
    dsb_ishst()
    for i in 0..<count { tlbi_vae2(UInt64(RMM_AUX_WINDOW_VA) + UInt64(i) << 12) }
    dsb_nsh()
    isb()
    return result
  }

  private func mapSlot(_ pa: UInt64, addressSpace: AddressSpace) -> UInt64 {
    let cpu = currentCPU()
    let depth = Int(slotDepth[cpu])
    precondition(depth < Int(RMM_SLOTS_PER_CPU))
    slotDepth[cpu] = UInt8(depth + 1)
    let slot = cpu * Int(RMM_SLOTS_PER_CPU) + depth
    var descriptor = pa | s1_normal_rw_attributes()
    if addressSpace == .nonSecure { descriptor |= s1_non_secure_bit() }
    rmm_l3_slots()![slot] = descriptor
    dsb_ishst()
    isb()
    return UInt64(RMM_SLOTS_VA) + UInt64(slot) << 12
  }

  private func unmapSlot(_ va: UInt64) {
    let cpu = currentCPU()
    let slot = Int((va - UInt64(RMM_SLOTS_VA)) >> 12)
    rmm_l3_slots()![slot] = 0
    dsb_ishst()
    tlbi_vae2(va)
    dsb_nsh()
    isb()
    slotDepth[cpu] -= 1
  }
}
