// RSI_MEASUREMENT_READ and RSI_MEASUREMENT_EXTEND: the RIM and the REMs in the RD.

import RMMABI

extension RMIDispatcher {
  @inline(never)
  func rsiMeasurementRead(_ rec: inout RECView, _ running: inout RunningREC) -> Bool {
    let index = rec.gpr(1)
    guard index <= 4 else { rec.finishSMC(RSIStatus.errorInput.rawValue); return false }
    var words: InlineArray<8, UInt64> = .init(repeating: 0)
    withRealmMeasurements(running.rd) { page in
      let offset = index == 0 ? RDLayout.rim : RDLayout.rems + 64 * Int(index - 1)
      for i in 0..<8 { words[i] = page.load64(at: offset + 8 * i) }
    }
    for i in 0..<8 { rec.setGPR(1 + i, words[i]) }
    rec.finishSMC(RSIStatus.success.rawValue)
    return false
  }

  @inline(never)
  func rsiMeasurementExtend(_ rec: inout RECView, _ running: inout RunningREC) -> Bool {
    let index = rec.gpr(1)
    let size = rec.gpr(2)
    guard index >= 1, index <= 4, size <= 64 else { rec.finishSMC(RSIStatus.errorInput.rawValue); return false }
    var value: InlineArray<8, UInt64> = .init(repeating: 0)
    for i in 0..<8 { value[i] = rec.gpr(3 + i) }
    let algorithm = running.realm.hashAlgorithm
    withRealmMeasurements(running.rd) { page in
      let offset = RDLayout.rems + 64 * Int(index - 1)
      var current = Digest64()
      for i in 0..<8 { current.words[i] = page.load64(at: offset + 8 * i) }
      current.length = MeasurementHash.digestLength(algorithm)
      let extended = MeasurementHash.digest(algorithm) { h in
        withUnsafeBytes(of: &current.words) { h.update(UnsafeRawBufferPointer(rebasing: $0[0..<current.length])) }
        withUnsafeBytes(of: &value) { h.update(UnsafeRawBufferPointer(rebasing: $0[0..<Int(size)])) }
      }
      for i in 0..<8 { page.store64(extended.words[i], at: offset + 8 * i) }
    }
    rec.finishSMC(RSIStatus.success.rawValue)
    return false
  }

  /// The REM/RIM slots of the realm's RD, under the RD lock.
  func withRealmMeasurements(_ rd: UInt64, _ body: (inout GranuleWriter) -> Void) {
    guard let granule = environment.granules.lock(rd, expecting: .rd) else { return }
    _ = try? environment.gate.writing(granule, AccessIntent(.rdWrite, .write, expecting: .rd)) { page in
      body(&page)
    }
    environment.granules.release(granule)
  }
}
