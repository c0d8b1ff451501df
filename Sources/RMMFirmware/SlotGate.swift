// The firmware's side of the gate (RMMCore/Gate/Gate.swift decides, audits and
// bounds every access): it maps one granule at a time in a per-CPU slot of the high
// window, read-only at stage 1 for a read intent, and unmaps it again (local TLB
// invalidation: the slot VA belongs to this CPU alone). There is no flat map of DRAM
// anywhere. NS copies go through rmm_ns_copy, whose faults are fixed up.

import AArch64Shim
import RMMCore

/// How deep each CPU's slot stack is (nested accesses take the next slot).
nonisolated(unsafe) var slotDepth: InlineArray<32, UInt8> = .init(repeating: 0)

@inline(__always) func currentCPU() -> Int { Int(truncatingIfNeeded: read_tpidr_el2()) }

struct SlotMapper: GateMapper {
  static var auditCapacity: Int { auditRecordsPerCPU }

  var auditCPU: AuditCPU {
    @inline(__always) get {
    AuditCPU(state: auditState(currentCPU()))
    }
  }

  func alert(_ record: AuditRecord) { auditAlert(record) }

  func map(_ pa: UInt64, in space: AddressSpace, writable: Bool) -> UnsafeMutableRawPointer? {
    let cpu = currentCPU()
    let depth = Int(slotDepth[cpu])
    precondition(depth < Int(RMM_SLOTS_PER_CPU))
    slotDepth[cpu] = UInt8(depth + 1)
    let slot = cpu * Int(RMM_SLOTS_PER_CPU) + depth
    var descriptor = pa | s1_normal_rw_attributes()
    if !writable { descriptor |= s1_read_only_bit() }
    if space == .nonSecure { descriptor |= s1_non_secure_bit() }
    rmm_l3_slots()![slot] = descriptor
    dsb_ishst()
    isb()
    return UnsafeMutableRawPointer(bitPattern: UInt(RMM_SLOTS_VA) + UInt(slot) << 12)
  }

  func unmap(_ address: UnsafeMutableRawPointer) {
    let cpu = currentCPU()
    let va = UInt64(UInt(bitPattern: address))
    let slot = Int((va - UInt64(RMM_SLOTS_VA)) >> 12)
    rmm_l3_slots()![slot] = 0
    dsb_ishst()
    tlbi_vae2(va)
    dsb_nsh()
    isb()
    slotDepth[cpu] -= 1
  }

  func faultTolerantCopy(to destination: UnsafeMutableRawPointer, from source: UnsafeRawPointer, count: Int) -> Bool {
    rmm_ns_copy(UInt64(UInt(bitPattern: destination)), UInt64(UInt(bitPattern: source)), UInt64(count) & ~7) == 0
  }

  func zeroPage(_ page: UnsafeMutableRawPointer, firstTouch: Bool) -> Bool {
    let va = UInt64(UInt(bitPattern: page))
    if firstTouch { return rmm_zero_new_granule(va) == 0 }
    rmm_zero_page(va)
    return true
  }

  func copyPage(to page: UnsafeMutableRawPointer, from source: UnsafeRawPointer) {
    rmm_copy_page(UInt64(UInt(bitPattern: page)), UInt64(UInt(bitPattern: source)))
  }

  func fillPage(_ page: UnsafeMutableRawPointer, first: UInt64, step: UInt64) {
    rmm_fill_page(UInt64(UInt(bitPattern: page)), first, step)
  }

  func mapWindow(_ order: borrowing InlineArray<16, UInt64>, count: Int) -> UnsafeMutableRawPointer? {
    guard count > 0, count <= Int(RMM_AUX_WINDOW_PAGES) else { return nil }
    let table = rmm_aux_window_l3()!
    for i in 0..<count { table[i] = order[i] | s1_normal_rw_attributes() }
    dsb_ishst()
    isb()
    return UnsafeMutableRawPointer(bitPattern: UInt(RMM_AUX_WINDOW_VA))
  }

  func unmapWindow(count: Int) {
    // The tables are this CPU's own: local invalidation is enough.
    let table = rmm_aux_window_l3()!
    for i in 0..<count { table[i] = 0 }
    dsb_ishst()
    for i in 0..<count { tlbi_vae2(UInt64(RMM_AUX_WINDOW_VA) + UInt64(i) << 12) }
    dsb_nsh()
    isb()
  }

  var sharedPage: (address: UnsafeMutableRawPointer, pa: UInt64)? {
    (UnsafeMutableRawPointer(bitPattern: UInt(RMM_SHARED_PAGE_VA))!, sharedPagePA)
  }
}
