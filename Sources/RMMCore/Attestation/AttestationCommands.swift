// RSI_ATTEST_TOKEN_INIT and RSI_ATTEST_TOKEN_CONTINUE.
//
// INIT gathers the claims, encodes the realm token (signature still zero) and the
// digest to sign into the REC's attestation workspace, and answers with the token's
// size. CONTINUE signs in bounded steps, and stops with RSI_INCOMPLETE as soon as a
// physical interrupt is pending (the REC then exits to the host with an IRQ exit; the
// realm calls again and the signature resumes where it stopped, possibly on another
// CPU). Once signed, CONTINUE copies the token into the granule the realm names, as
// much as the realm allows per call, and answers RSI_SUCCESS with the last piece.
//
// The workspace is the REC's first two aux granules, mapped through the gate at one
// address on every CPU: aux 0 holds the control block and the realm token; the
// signer's arena follows, to the end of aux 1.

import RMMABI

/// Offsets in the attestation workspace (the REC's first aux granules, as one range;
/// the first 0x240 bytes are unused since the FP/SIMD registers moved into the REC
/// granule). The signer's arena runs from inside aux 0 to the end of aux 1 (mbedTLS needs at most 4,080 bytes for a
/// P-384 signature: docs/CRYPTO.md).
public enum AttestationLayout {
  public static let state = 0x240
  public static let delivered = 0x248        // bytes of the token already copied out
  public static let tokenLength = 0x250      // the whole CCA token
  public static let realmTokenLength = 0x258
  public static let signatureOffset = 0x260  // in the realm token
  public static let payloadOffset = 0x268
  public static let payloadLength = 0x270
  public static let digest = 0x280           // SHA-384 of the Sig_structure, 48 bytes
  public static let realmToken = 0x300
  public static let realmTokenCapacity = 0x300  // >= RealmToken.maximumLength
  public static let arena = 0x600            // to the end of the last aux granule

  /// Where a REC is in producing its token.
  public enum State: UInt64, Sendable {
    case none = 0        // no INIT, or the last token was delivered whole
    case ready = 1       // claims encoded, signature not started
    case signing = 2     // signature state in the arena
    case signed = 3      // token complete, being copied out
  }
}

/// The REC's attestation workspace while it is mapped: fixed-offset fields, the realm
/// token buffer and the arena, each a checked view of the mapping.
struct AttestationWorkspace {
  let window: UnsafeMutableRawBufferPointer

  func load(_ offset: Int) -> UInt64 {
    precondition(offset >= 0 && offset + 8 <= AttestationLayout.realmToken && offset & 7 == 0)
    return window.load(fromByteOffset: offset, as: UInt64.self)
  }

  func store(_ value: UInt64, _ offset: Int) {
    precondition(offset >= 0 && offset + 8 <= AttestationLayout.realmToken && offset & 7 == 0)
    window.storeBytes(of: value, toByteOffset: offset, as: UInt64.self)
  }

  var state: AttestationLayout.State {
    get { AttestationLayout.State(rawValue: load(AttestationLayout.state)) ?? .none }
    nonmutating set { store(newValue.rawValue, AttestationLayout.state) }
  }

  var realmTokenBuffer: UnsafeMutableRawBufferPointer {
    UnsafeMutableRawBufferPointer(rebasing: window[AttestationLayout.realmToken..<(AttestationLayout.realmToken + AttestationLayout.realmTokenCapacity)])
  }

  var arena: UnsafeMutableRawBufferPointer {
    UnsafeMutableRawBufferPointer(rebasing: window[AttestationLayout.arena..<window.count])
  }

  var digest: Digest64 {
    var d = Digest64()
    for i in 0..<6 { d.words[i] = load(AttestationLayout.digest + 8 * i) }
    d.length = 48
    return d
  }

  /// The realm token as encoded so far (bounded by the stored, checked length).
  var realmToken: UnsafeRawBufferPointer {
    let length = min(Int(truncatingIfNeeded: load(AttestationLayout.realmTokenLength)), AttestationLayout.realmTokenCapacity)
    return UnsafeRawBufferPointer(rebasing: realmTokenBuffer[0..<length])
  }
}

extension RMIDispatcher {
  // ---- RSI_ATTEST_TOKEN_INIT ---------------------------------------------------------

  func attestTokenInit(_ rec: inout RECView, _ running: inout RunningREC) {
    let attestation = environment.attestation
    guard attestation.isAvailable else { rec.finishSMC(RSIStatus.errorState.rawValue); return }
    var claims = RealmClaims()
    for i in 0..<8 { claims.challenge[i] = rec.gpr(1 + i) }
    claims.hashAlgorithm = running.realm.hashAlgorithm
    let digestLength = MeasurementHash.digestLength(claims.hashAlgorithm)
    withRealmMeasurements(running.rd) { page in
      for i in 0..<8 {
        claims.rim.words[i] = page.load64(at: RDLayout.rim + 8 * i)
        claims.personalizationValue[i] = page.load64(at: RDLayout.personalizationValue + 8 * i)
        for r in 0..<4 { claims.rems[r].words[i] = page.load64(at: RDLayout.rems + 64 * r + 8 * i) }
      }
    }
    claims.rim.length = digestLength
    for r in 0..<4 { claims.rems[r].length = digestLength }

    let total: Int? = withAttestationWorkspace(rec) { workspace in
      // A new INIT abandons whatever the previous one left (the spec: INIT restarts).
      if workspace.state == .signing { attestation.abandonSignature(arena: workspace.arena) }
      workspace.state = .none
      return attestation.withBootMaterial { publicKey, platformToken -> Int? in
        var out = BoundedByteWriter(workspace.realmTokenBuffer)
        guard let layout = RealmToken.encode(claims, publicKey: publicKey, into: &out) else { return nil }
        workspace.store(UInt64(layout.length), AttestationLayout.realmTokenLength)
        workspace.store(UInt64(layout.signatureOffset), AttestationLayout.signatureOffset)
        workspace.store(UInt64(layout.payloadOffset), AttestationLayout.payloadOffset)
        workspace.store(UInt64(layout.payloadLength), AttestationLayout.payloadLength)
        let digest = RealmToken.signingDigest(token: workspace.realmToken, layout)
        for i in 0..<6 { workspace.store(digest.words[i], AttestationLayout.digest + 8 * i) }
        let total = CCATokenCollection.length(platformTokenLength: platformToken.count, realmTokenLength: layout.length)
        workspace.store(UInt64(total), AttestationLayout.tokenLength)
        workspace.store(0, AttestationLayout.delivered)
        workspace.state = .ready
        return total
      }
    } ?? nil
    guard let total else { rec.finishSMC(RSIStatus.errorState.rawValue); return }
    // The exact size, which is the upper bound the spec asks for.
    rec.finishSMC(RSIStatus.success.rawValue, UInt64(total))
  }

  // ---- RSI_ATTEST_TOKEN_CONTINUE -----------------------------------------------------

  enum ContinueOutcome {
    case finished(RSIStatus, copied: UInt64)
    case preempted
    case populateFirst
    case failed(RSIStatus)
  }

  /// Returns whether the REC exits to the host (a destination the host must populate).
  func attestTokenContinue(_ rec: inout RECView, _ running: inout RunningREC,
                           _ exit: inout RECExit) -> Bool {
    let ipa = rec.gpr(1), offset = rec.gpr(2), size = rec.gpr(3)
    let s2 = running.realm.stage2
    guard isGranuleAligned(ipa), s2.contains(ipa), s2.isProtected(ipa), offset < granuleSize,
          size <= granuleSize - offset else {
      rec.finishSMC(RSIStatus.errorInput.rawValue)
      return false
    }
    // The destination must be realm RAM before any work is done: an unpopulated page
    // goes to the host first (the SMC runs again afterwards), EMPTY is refused.
    switch lockRealmPage(s2, ipa: ipa) {
    case .data(let page): environment.granules.release(page)
    case .dataAbortToHost: return unpopulatedAbortExit(ipa: ipa, &exit)
    case .invalid:
      rec.finishSMC(RSIStatus.errorInput.rawValue)
      return false
    }

    let outcome: ContinueOutcome = withAttestationWorkspace(rec) { workspace in
      advanceToken(workspace, s2: s2, ipa: ipa, offset: Int(offset), size: Int(size))
    } ?? .failed(.errorState)
    switch outcome {
    case .finished(let status, let copied):
      rec.finishSMC(status.rawValue, copied)
    case .preempted:
      // Nothing copied yet; the caller's loop sees the interrupt and exits to the host.
      rec.finishSMC(RSIStatus.incomplete.rawValue, 0)
    case .populateFirst:
      return unpopulatedAbortExit(ipa: ipa, &exit)
    case .failed(let status):
      rec.finishSMC(status.rawValue)
    }
    return false
  }

  func advanceToken(_ workspace: AttestationWorkspace, s2: Stage2Config, ipa: UInt64, offset: Int, size: Int) -> ContinueOutcome {
    let attestation = environment.attestation
    switch workspace.state {
    case .none:
      return .failed(.errorState)  // no RSI_ATTEST_TOKEN_INIT (or its token was delivered)
    case .ready:
      guard attestation.beginSignature(arena: workspace.arena, digest: workspace.digest) else {
        attestation.abandonSignature(arena: workspace.arena)
        workspace.state = .none
        return .failed(.errorUnknown)  // the signer failed (B5.3.1 `unknown`)
      }
      workspace.state = .signing
    case .signing, .signed:
      break
    }
    while workspace.state == .signing {
      switch attestation.continueSignature(arena: workspace.arena) {
      case .done:
        let at = Int(truncatingIfNeeded: workspace.load(AttestationLayout.signatureOffset))
        guard at >= 0, at <= AttestationLayout.realmTokenCapacity - COSE.es384SignatureSize,
              attestation.finishSignature(arena: workspace.arena,
                                          into: UnsafeMutableRawBufferPointer(rebasing: workspace.realmTokenBuffer[at..<(at + COSE.es384SignatureSize)]))
        else {
          attestation.abandonSignature(arena: workspace.arena)
          workspace.state = .none
          return .failed(.errorUnknown)
        }
        workspace.state = .signed
      case .inProgress:
        if environment.cpu.interruptPending { return .preempted }
      case .failed:
        attestation.abandonSignature(arena: workspace.arena)
        workspace.state = .none
        return .failed(.errorUnknown)
      }
    }

    // Signed: copy the next piece into the realm's granule.
    let total = Int(truncatingIfNeeded: workspace.load(AttestationLayout.tokenLength))
    let delivered = Int(truncatingIfNeeded: workspace.load(AttestationLayout.delivered))
    let count = min(size, max(total - delivered, 0))
    let page: LockedGranule
    switch lockRealmPage(s2, ipa: ipa) {
    case .data(let locked): page = locked
    case .dataAbortToHost: return .populateFirst  // the host unmapped it meanwhile; the token waits
    case .invalid: return .failed(.errorInput)
    }
    let copied: Bool = (try? environment.gate.writing(
      page, AccessIntent(.attestationTokenWrite, .write, expecting: .data, offset: UInt16(offset), length: UInt16(count))) { destination in
        copyToken(workspace, from: delivered, count: count, into: &destination, at: offset)
        return true
      }) ?? false
    environment.granules.release(page)
    guard copied else { return .failed(.errorInput) }
    let now = delivered + count
    workspace.store(UInt64(now), AttestationLayout.delivered)
    if now >= total {
      workspace.state = .none  // delivered whole: the next CONTINUE needs a new INIT
      return .finished(.success, copied: UInt64(count))
    }
    return .finished(.incomplete, copied: UInt64(count))
  }

  /// Copies bytes [from, from + count) of the CCA token, which exists only as four
  /// segments: collection head, platform token, separator, realm token.
  func copyToken<Page: WritablePage>(_ workspace: AttestationWorkspace, from start: Int, count: Int,
                                     into page: inout Page, at offset: Int) {
    let realmToken = workspace.realmToken
    environment.attestation.withBootMaterial { _, platformToken in
      var head: InlineArray<16, UInt8> = .init(repeating: 0)
      var separator: InlineArray<16, UInt8> = .init(repeating: 0)
      withUnsafeMutableBytes(of: &head) { headBytes in
        withUnsafeMutableBytes(of: &separator) { separatorBytes in
          var headWriter = BoundedByteWriter(headBytes)
          CCATokenCollection.encodeHead(platformTokenLength: platformToken.count, into: &headWriter)
          var separatorWriter = BoundedByteWriter(separatorBytes)
          CCATokenCollection.encodeSeparator(realmTokenLength: realmToken.count, into: &separatorWriter)
          let segments: InlineArray<4, UnsafeRawBufferPointer> = [headWriter.written, platformToken,
                                                                   separatorWriter.written, realmToken]
          var segmentStart = 0
          var position = start
          var written = 0
          for i in 0..<4 {
            let segment = segments[i]
            let segmentEnd = segmentStart + segment.count
            if position < segmentEnd && written < count {
              let take = min(segmentEnd - position, count - written)
              page.storeBytes(UnsafeRawBufferPointer(rebasing: segment[(position - segmentStart)..<(position - segmentStart + take)]),
                              at: offset + written)
              written += take
              position += take
            }
            segmentStart = segmentEnd
          }
        }
      }
    }
  }

  /// Maps the running REC's aux granules as its attestation workspace for `body`.
  func withAttestationWorkspace<Result>(_ rec: borrowing RECView,
                                        _ body: (AttestationWorkspace) -> Result) -> Result? {
    // The workspace is the first aux granules; an SVE realm's registers follow them.
    guard rec.field(RECLayout.auxCount) >= UInt64(attestationAuxGranules) else { return nil }
    let count = attestationAuxGranules
    var order: InlineArray<16, UInt64> = .init(repeating: 0)
    var addresses: InlineArray<18, UInt64> = .init(repeating: 0)
    for i in 0..<count {
      order[i] = rec.field(RECLayout.aux + 8 * i)
      addresses[i] = order[i]
    }
    // Aux granules belong to the REC, which this CPU holds running: nobody else locks them.
    var locked = GranuleLockSet()
    guard environment.granules.lockAll(addresses, count: count, into: &locked) else { return nil }
    for i in 0..<count where locked.state(of: order[i]) != .recAux {
      environment.granules.releaseAll(locked)
      return nil
    }
    let result = try? environment.gate.withAuxiliaryWindow(
      order, count: count, locked: &locked, AccessIntent(.attestationWorkspace, .write, expecting: .recAux)) { window in
        body(AttestationWorkspace(window: window))
      }
    environment.granules.releaseAll(locked)
    return result
  }
}
