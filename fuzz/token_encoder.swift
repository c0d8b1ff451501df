// Fuzz target: the attestation token encoder (RealmToken, CCATokenCollection, CBOR) on
// arbitrary claims, public-key and platform-token sizes and output capacities. Every
// encoding that succeeds is decoded by the host verifier's strict decoder (written
// independently, Sources/CCATokenVerifier/CBORDecoder.swift) and must give back the
// claims; the signed digest must equal SHA-384 of the Sig_structure as the verifier's
// encoder builds it; an encoding that does not fit must say so and never write past
// its buffer.
import RMMABI
import RMMCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  var input = FuzzInput(data, size)
  var claims = RealmClaims()
  claims.hashAlgorithm = input.byte() & 1 == 0 ? .sha256 : .sha512
  let digestLength = claims.hashAlgorithm == .sha256 ? 32 : 64
  for i in 0..<8 {
    claims.challenge[i] = input.u64()
    claims.personalizationValue[i] = input.u64()
    claims.rim.words[i] = input.u64()
    for r in 0..<4 { claims.rems[r].words[i] = input.u64() }
  }
  // Bytes past the digest length must not leak into the token.
  claims.rim.length = digestLength
  for r in 0..<4 { claims.rems[r].length = digestLength }
  let publicKey = (0..<Int(input.byte())).map { _ in input.byte() }
  let platformLength = Int(input.u16())
  let capacity = Int(input.u16()) % 1024

  var buffer = [UInt8](repeating: 0xEE, count: capacity + 64)
  let layout = buffer.withUnsafeMutableBytes { raw in
    var out = BoundedByteWriter(UnsafeMutableRawBufferPointer(rebasing: raw[0..<capacity]))
    let layout = publicKey.withUnsafeBytes { RealmToken.encode(claims, publicKey: $0, into: &out) }
    invariant(out.count <= capacity, "wrote \(out.count) into \(capacity)")
    invariant((layout == nil) == out.overflowed, "a nil layout means the buffer was too small, and only then")
    return layout
  }
  invariant(buffer[capacity...].allSatisfy { $0 == 0xEE }, "wrote past the buffer")
  guard let layout else { return 0 }

  let token = Array(buffer[0..<layout.length])
  guard let decoded = try? CBORDecoder.decode(token), case .tagged(CCAToken.coseSign1Tag, let sign1) = decoded,
        let parts = sign1.arrayValue, parts.count == 4, let payloadBytes = parts[2].bytesValue,
        let payload = try? CBORDecoder.decode(payloadBytes), let entries = payload.mapEntries
  else { invariant(false, "the realm token does not decode strictly"); return 0 }
  invariant(parts[3].bytesValue == [UInt8](repeating: 0, count: 96), "signature placeholder")
  invariant(entries.count == 8, "eight claims")
  func bytes<T>(_ value: T, _ count: Int) -> [UInt8] {
    withUnsafeBytes(of: value) { Array($0.prefix(count)) }
  }
  invariant(payload[RealmClaim.challenge]?.bytesValue == bytes(claims.challenge, 64), "challenge")
  invariant(payload[RealmClaim.personalizationValue]?.bytesValue == bytes(claims.personalizationValue, 64), "RPV")
  invariant(payload[RealmClaim.initialMeasurement]?.bytesValue == bytes(claims.rim.words, digestLength), "RIM")
  let rems = payload[RealmClaim.extensibleMeasurements]?.arrayValue ?? []
  invariant(rems.count == 4, "four REMs")
  for r in 0..<min(rems.count, 4) {
    invariant(rems[r].bytesValue == bytes(claims.rems[r].words, digestLength), "REM \(r)")
  }
  invariant(payload[RealmClaim.publicKey]?.bytesValue == publicKey, "public key")
  invariant(payload[RealmClaim.hashAlgorithmID]?.textValue == (digestLength == 32 ? "sha-256" : "sha-512"), "hash algorithm")

  // The digest that gets signed: SHA-384 over the Sig_structure, built independently.
  let protected = parts[0].bytesValue ?? []
  let sigStructure = CBOREncoder.encode(.array([.text("Signature1"), .bytes(protected), .bytes([]), .bytes(payloadBytes)]))
  var reference = SHA384()
  sigStructure.withUnsafeBytes { reference.update($0) }
  let expected = reference.finalize()
  let digest = token.withUnsafeBytes { RealmToken.signingDigest(token: $0, layout) }
  invariant(digest == expected, "signing digest")

  // The collection head and separator around a platform token of any length.
  var head = [UInt8](repeating: 0, count: 32)
  let framed = head.withUnsafeMutableBytes { raw -> [UInt8] in
    var out = BoundedByteWriter(raw)
    CCATokenCollection.encodeHead(platformTokenLength: platformLength, into: &out)
    return Array(out.written)
  }
  invariant(framed.count == CCATokenCollection.headLength(platformTokenLength: platformLength), "head length")
  let platform = [UInt8](repeating: 0x40, count: platformLength)  // a bstr-free filler: never parsed here
  var separator = [UInt8](repeating: 0, count: 16)
  let middle = separator.withUnsafeMutableBytes { raw -> [UInt8] in
    var out = BoundedByteWriter(raw)
    CCATokenCollection.encodeSeparator(realmTokenLength: token.count, into: &out)
    return Array(out.written)
  }
  let whole = framed + platform + middle + token
  invariant(whole.count == CCATokenCollection.length(platformTokenLength: platformLength, realmTokenLength: token.count),
            "collection length")
  guard let collection = try? CBORDecoder.decode(whole), case .tagged(CCAToken.collectionTag, let map) = collection else {
    invariant(false, "the collection does not decode")
    return 0
  }
  invariant(map[CCAToken.platformTokenKey]?.bytesValue == platform, "platform token")
  invariant(map[CCAToken.realmTokenKey]?.bytesValue == token, "realm token")
  return 0
}
