// Decodes an RMI call and runs its handler. The command table is `RMICommand`
// (FID, argument and result counts); this file maps each command to the function
// that implements it. Unused result registers are zeroed so that nothing of the
// RMM's own state can reach the host; x4 is preserved unless it carries a result
// (SMCCC: x4-x17 are callee-saved).

import RMMABI

/// The registers of an SMC as EL3 hands them to the RMM: x0 = FID, x1...x7 = arguments.
public struct SMCArguments: Equatable, Sendable {
  public var fid: UInt64
  public var x1, x2, x3, x4, x5, x6, x7: UInt64
  @inlinable public init(_ fid: UInt64, _ x1: UInt64 = 0, _ x2: UInt64 = 0, _ x3: UInt64 = 0,
                         _ x4: UInt64 = 0, _ x5: UInt64 = 0, _ x6: UInt64 = 0, _ x7: UInt64 = 0) {
    self.fid = fid; self.x1 = x1; self.x2 = x2; self.x3 = x3
    self.x4 = x4; self.x5 = x5; self.x6 = x6; self.x7 = x7
  }
}

/// What the host receives in x0...x4.
public struct RMIResult: Equatable, Sendable {
  public var x0, x1, x2, x3, x4: UInt64
  @inlinable public init(_ x0: UInt64, _ x1: UInt64 = 0, _ x2: UInt64 = 0, _ x3: UInt64 = 0, _ x4: UInt64 = 0) {
    self.x0 = x0; self.x1 = x1; self.x2 = x2; self.x3 = x3; self.x4 = x4
  }
  @inlinable public var status: RMIStatus? { RMIStatus(encoded: x0) }
}

public struct RMIDispatcher<Environment: RMMEnvironment> {
  public let environment: Environment
  @inlinable public init(environment: Environment) { self.environment = environment }

  /// Decodes one RMI call and runs it.
  @inline(__always)
  public func handle(_ call: SMCArguments) -> RMIResult {
    switch route(call) {
    case .answered(let result): return result
    case .perform: return perform(call)
    }
  }

  /// How a call is served: the calls that touch no granule (VERSION, FEATURES) are
  /// answered right here, by FID, with their ABI known at compile time; every other
  /// FID is decoded and run by `perform`. Inlined into the firmware's RMI entry, so
  /// that the answered calls need no frame there.
  public enum Route { case answered(RMIResult), perform }

  @inline(__always)
  public func route(_ call: SMCArguments) -> Route {
    let fid = call.fid & ~smcSVEHintBit
    switch fid {
    case RMICommand.version.rawValue:
      let x4 = begin(.version, call)
      let answer = rmiVersion(requested: call.x1)
      // A refused version still reports the implemented revisions.
      return .answered(RMIResult(answer.supported ? RMIStatus.success.encoded : RMIError.input.status.encoded,
                                 answer.lower, answer.higher, 0, x4))
    case RMICommand.features.rawValue:
      let x4 = begin(.features, call)
      return .answered(RMIResult(RMIStatus.success.encoded, rmiFeatures(index: call.x1), 0, 0, x4))
    default:
      return .perform
    }
  }

  /// What every call does before its handler runs, from the command's ABI: notes the
  /// call for the audit records of its gate accesses, and returns the x4 the host
  /// gets back unless the command returns a result in it (SMCCC: x4 is callee-saved).
  @inline(__always)
  func begin(_ command: RMICommand, _ call: SMCArguments) -> UInt64 {
    let abi = command.abi
    environment.gate.noteCall(function: call.fid, realm: abi.realmFirst ? call.x1 : 0, ipa: 0)
    return abi.preservesX4 ? call.x4 : 0
  }

  /// The commands that work on granules (and an unknown FID: SMC_UNKNOWN). Inlined
  /// into its one caller in the firmware, which reads the arguments from and writes
  /// the results to the RMI frame directly.
  @inline(__always)
  public func perform(_ call: SMCArguments) -> RMIResult {
    guard let command = RMICommand(rawValue: call.fid & ~smcSVEHintBit) else {
      return RMIResult(smcUnknown, 0, 0, 0, call.x4)
    }
    var result = RMIResult(RMIStatus.success.encoded, 0, 0, 0, begin(command, call))
    do throws(RMIError) {
      switch command {
      case .version, .features:
        // Answered in `handle` (never here).
        result.x0 = smcUnknown
      case .granuleDelegate:
        try granuleDelegate(call.x1)
      case .granuleUndelegate:
        try granuleUndelegate(call.x1)
      case .realmCreate:
        try realmCreate(rd: call.x1, paramsPA: call.x2)
      case .realmActivate:
        try realmActivate(rd: call.x1)
      case .realmDestroy:
        try realmDestroy(rd: call.x1)
      case .recAuxCount:
        result.x1 = try recAuxCount(rd: call.x1)
      case .recCreate:
        try recCreate(rd: call.x1, rec: call.x2, paramsPA: call.x3)
      case .recDestroy:
        try recDestroy(rec: call.x1)
      case .rttCreate:
        try rttCreate(rd: call.x1, rtt: call.x2, ipa: call.x3, level: Int(truncatingIfNeeded: call.x4))
      case .rttDestroy:
        let destroyed = try rttDestroy(rd: call.x1, ipa: call.x2, level: Int(truncatingIfNeeded: call.x3))
        result.x1 = destroyed.rtt
        result.x2 = destroyed.top
      case .rttFold:
        result.x1 = try rttFold(rd: call.x1, ipa: call.x2, level: Int(truncatingIfNeeded: call.x3))
      case .rttReadEntry:
        let report = try rttReadEntry(rd: call.x1, ipa: call.x2, level: Int(truncatingIfNeeded: call.x3))
        result.x1 = UInt64(bitPattern: Int64(report.level))  // walk_level: -1 is all ones
        result.x2 = report.state.rawValue
        result.x3 = report.descriptor
        result.x4 = report.ripas.rawValue
      case .rttMapUnprotected:
        try rttMapUnprotected(rd: call.x1, ipa: call.x2, level: Int(truncatingIfNeeded: call.x3), descriptor: call.x4)
      case .rttUnmapUnprotected:
        result.x1 = try rttUnmapUnprotected(rd: call.x1, ipa: call.x2, level: Int(truncatingIfNeeded: call.x3))
      case .rttInitRIPAS:
        result.x1 = try rttInitRIPAS(rd: call.x1, base: call.x2, top: call.x3)
      case .dataCreate:
        try dataCreate(rd: call.x1, data: call.x2, ipa: call.x3, source: call.x4, flags: call.x5)
      case .dataCreateUnknown:
        try dataCreateUnknown(rd: call.x1, data: call.x2, ipa: call.x3)
      case .dataDestroy:
        let destroyed = try dataDestroy(rd: call.x1, ipa: call.x2)
        result.x1 = destroyed.data
        result.x2 = destroyed.top
      case .rttSetRIPAS:
        result.x1 = try rttSetRIPAS(rd: call.x1, rec: call.x2, base: call.x3, top: call.x4)
      case .recEnter:
        try recEnter(rec: call.x1, runPA: call.x2)
      case .psciComplete:
        try psciComplete(caller: call.x1, target: call.x2, status: call.x3)
      }
    } catch {
      // On failure only the status reaches the host, and `top` where the ABI has it.
      result = RMIResult(error.status.encoded, 0, 0, 0, result.x4)
      if let top = error.top {
        switch command.abi.topOnFailure {
        case .x1: result.x1 = top
        case .x2: result.x2 = top
        case .none: break
        }
      }
    }
    return result
  }
}
