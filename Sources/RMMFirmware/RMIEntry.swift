// The Swift side of the RMI loop in boot/rmm_entry.S.

import AArch64Shim
import RMMABI
import RMMCore

/// Set after an unexpected exception: the RMM no longer trusts its own state and
/// answers every call with SMC_UNKNOWN instead of touching it.
nonisolated(unsafe) var rmmHalted = false

/// `frame` holds the host's x0-x7; on return slots 0-4 hold its x0-x4.
@_cdecl("rmm_handle_rmi")
public func rmmHandleRMI(_ frame: UnsafeMutablePointer<UInt64>) {
  if _slowPath(rmmHalted || frame[0] == AuditInterface.fid) { return handleSpecialRMI(frame) }
#if RMM_TEST_HOOKS
  if frame[0] == testHookFID {
    runTestHook(SMCArguments(frame[0], frame[1], frame[2], frame[3], frame[4], frame[5], frame[6], frame[7]))
  }
#endif
  dispatchRMI(frame)
}

/// The dispatcher's routing, inlined here: only the registers a command uses are
/// read from the frame, a call answered without granules needs no stack frame, and a
/// command's results go straight back into the frame.
@inline(__always)
func dispatchRMI(_ frame: UnsafeMutablePointer<UInt64>) {
  // The dispatcher notes the call for the audit log once it has decoded it.
  let call = SMCArguments(frame[0], frame[1], frame[2], frame[3], frame[4], frame[5], frame[6], frame[7])
  switch RMIDispatcher(environment: FirmwareEnvironment()).route(call) {
  case .answered(let result): store(result, frame)
  case .perform: performRMI(frame)
  }
}

@inline(never)
func performRMI(_ frame: UnsafeMutablePointer<UInt64>) {
  let call = SMCArguments(frame[0], frame[1], frame[2], frame[3], frame[4], frame[5], frame[6], frame[7])
  store(RMIDispatcher(environment: FirmwareEnvironment()).perform(call), frame)
}

@inline(__always)
func store(_ result: RMIResult, _ frame: UnsafeMutablePointer<UInt64>) {
  frame[0] = result.x0
  frame[1] = result.x1
  frame[2] = result.x2
  frame[3] = result.x3
  frame[4] = result.x4
}

/// A halted RMM, and the audit drain interface.
@inline(never)
func handleSpecialRMI(_ frame: UnsafeMutablePointer<UInt64>) {
  if rmmHalted {
    frame[0] = smcUnknown
    frame[1] = 0
    frame[2] = 0
    frame[3] = 0
    return
  }
  auditNote(function: frame[0], realm: 0, ipa: 0)
  handleAuditCall(frame)
}

#if RMM_TEST_HOOKS
/// Test-only builds (scripts/test builds them separately; never the shipped image):
/// an otherwise unused RMI FID that makes the RMM misbehave on purpose, so the tests
/// can show the misbehaviour is contained.
let testHookFID: UInt64 = 0xC400_018E

func runTestHook(_ call: SMCArguments) {
  switch call.x1 {
  case 1:
    // Read from the high window where nothing is mapped: a translation fault at R-EL2.
    _ = mmio_read64(0x0000_FF80_0010_0000)  // volatile: the compiler must not drop it
  case 2:
    // Unbounded recursion: runs into this CPU's stack guard page.
    _ = exhaustStack(call.x2)
  case 3:
    attemptForbiddenAccesses(data: call.x2, rtt: call.x3)
  case 4:
    // Entry x3 of the RTT at x2 becomes x4, as if memory were corrupted: the next walk
    // through it must stop the RMM, not report an error to the host.
    if let table = granuleTable.lock(call.x2, expecting: .rtt) {
      let index = Int(call.x3 & 511)
      _ = try? FirmwareEnvironment().gate.writing(
        table, AccessIntent(.rttWrite, .write, expecting: .rtt, offset: UInt16(index * 8), length: 8)) { page in
        page.store64(call.x4, at: index * 8)
      }
      granuleTable.release(table)
    }
  case 5:
    // A raw store into a granule mapped for a read intent (as a bug that bypassed the
    // view would make): the slot is read-only at stage 1, so it takes a permission
    // fault, reported as a crash, instead of writing.
    if let table = granuleTable.lock(call.x2, expecting: .rtt) {
      _ = try? FirmwareEnvironment().gate.reading(table, AccessIntent(.rttRead, .read, expecting: .rtt, length: 8)) { page in
        let cpu = currentCPU()
        let slot = cpu * Int(RMM_SLOTS_PER_CPU) + Int(slotDepth[cpu]) - 1
        mmio_write64(UInt64(RMM_SLOTS_VA) + UInt64(slot) << 12, 0xBAD)
        return page.load64(at: 0)
      }
      granuleTable.release(table)
    }
  default:
    break
  }
}

@inline(never) func exhaustStack(_ depth: UInt64) -> UInt64 {
  var frame: InlineArray<64, UInt64> = .init(repeating: depth)
  frame[Int(depth & 63)] = mmio_read64(UInt64(UInt(bitPattern: withUnsafePointer(to: &frame) { $0 })))
  return exhaustStack(depth &+ 1) &+ frame[Int((depth >> 3) & 63)]
}
#endif

#if RMM_TEST_HOOKS
/// Accesses the policy forbids, made on purpose: each must be refused before anything
/// is mapped, counted, logged and alerted, and the RMM must keep serving.
func attemptForbiddenAccesses(data: UInt64, rtt: UInt64) {
  let gate = FirmwareEnvironment().gate
  // A read of a realm DATA granule during an unrelated command (as if RD code did it).
  if let granule = granuleTable.lock(data, expecting: .data) {
    _ = try? gate.reading(granule, AccessIntent(.rdRead, .read, expecting: .data)) { page in page.load64(at: 0) }
    granuleTable.release(granule)
  }
  // A write to an RTT from code that does not own RTTs.
  if let granule = granuleTable.lock(rtt, expecting: .rtt) {
    _ = try? gate.writing(granule, AccessIntent(.recWrite, .write, expecting: .rtt)) { page in
      page.store64(0xBAD, at: 0)
    }
    granuleTable.release(granule)
  }
  // An RTT read that declares one entry and reads another: the view refuses the
  // access it was not declared for, and the gate reports the whole access refused.
  if let granule = granuleTable.lock(rtt, expecting: .rtt) {
    _ = try? gate.reading(granule, AccessIntent(.rttRead, .read, expecting: .rtt, offset: 0, length: 8)) { page in
      page.load64(at: 8)
    }
    granuleTable.release(granule)
  }
  // An NS address outside any granule of DRAM.
  var buffer = PageBuffer()
  _ = try? gate.copyFromNonSecure(0x1_0000_0000_0000, AccessIntent(.realmParams, .read, expecting: .undelegated),
                                  into: &buffer)
}
#endif
