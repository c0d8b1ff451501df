// Human-readable claims of a parsed token: names with their keys, bytes in hex.
import CCATokenVerifier
import RMMABI

enum TokenPrinter {
  static func print(_ token: ParsedCCAToken, size: Int) {
    Swift.print("CCA token: \(size) bytes (platform token \(token.platformTokenBytes.count), realm token \(token.realmTokenBytes.count))")

    Swift.print("platform token (its signature is the platform's and is not checked here)")
    line("algorithm", algorithmName(token.platformToken))
    let platform = token.platformClaims
    let shownFirst: [UInt64] = [
      PlatformClaim.profile, PlatformClaim.challenge, PlatformClaim.implementationID, PlatformClaim.instanceID,
      PlatformClaim.securityLifecycle, PlatformClaim.softwareComponents, PlatformClaim.verificationService,
      PlatformClaim.platformConfig, PlatformClaim.hashAlgorithmID,
    ]
    for key in shownFirst {
      let label = "\(PlatformClaims.claimName(key)!) (\(key))"
      guard let value = platform[key] else { line(label, "(absent)"); continue }
      switch key {
      case PlatformClaim.securityLifecycle where value.unsignedValue != nil:
        let lifecycle = value.unsignedValue!
        line(label, "0x" + String(lifecycle, radix: 16) + " (\(PlatformClaims.lifecycleName(lifecycle)))")
      case PlatformClaim.softwareComponents where platform.softwareComponents != nil:
        line(label, "\(platform.softwareComponents!.count)")
        for (index, component) in platform.softwareComponents!.enumerated() { printComponent(component, index: index) }
      default:
        line(label, readable(value))
      }
    }
    for entry in platform.entries where !shownFirst.contains(where: { entry.key == .unsigned($0) }) {
      line("claim \(entry.key)", readable(entry.value))
    }

    Swift.print("realm token")
    line("algorithm", algorithmName(token.realmToken))
    let realm = token.realmClaims
    line(label(RealmClaim.challenge), hexString(realm.challenge))
    line(label(RealmClaim.profile), realm.profile)
    line(label(RealmClaim.personalizationValue), hexString(realm.personalizationValue))
    line(label(RealmClaim.hashAlgorithmID), realm.hashAlgorithm)
    line(label(RealmClaim.publicKey), "COSE_Key EC2 P-384, \(realm.publicKey.encoded.count) bytes")
    line("  x", hexString(realm.publicKey.key.x))
    line("  y", hexString(realm.publicKey.key.y))
    line("  SHA-256 of the COSE_Key", hexString(SHA2.sha256(realm.publicKey.encoded)))
    line(label(RealmClaim.initialMeasurement), hexString(realm.initialMeasurement))
    for (index, rem) in realm.extensibleMeasurements.enumerated() {
      line("REM[\(index)] (\(RealmClaim.extensibleMeasurements))", hexString(rem))
    }
    line(label(RealmClaim.publicKeyHashAlgorithmID), realm.publicKeyHashAlgorithm)
    line("signature", hexString(token.realmToken.signature))
  }

  private static func printComponent(_ component: PlatformSoftwareComponent, index: Int) {
    guard component.raw.mapEntries != nil else { line("  [\(index)]", readable(component.raw)); return }
    line("  [\(index)] type", component.measurementType ?? "(absent)")
    if let version = component.version { line("      version", version) }
    if let value = component.measurementValue { line("      measurement", hexString(value)) }
    if let signer = component.signerID { line("      signer ID", hexString(signer)) }
    if let description = component.measurementDescription { line("      algorithm", description) }
  }

  private static func label(_ key: UInt64) -> String { "\(RealmClaims.claimName(key)!) (\(key))" }

  private static func algorithmName(_ message: COSESign1) -> String {
    guard let algorithm = message.algorithm else { return "(none)" }
    return algorithm == COSE.es384 ? "ES384 (\(algorithm))" : "\(algorithm)"
  }

  private static func readable(_ value: CBORValue) -> String {
    switch value {
    case .bytes(let b): return hexString(b)
    case .text(let t): return t
    default: return value.description
    }
  }

  private static func line(_ label: String, _ value: String) {
    let padded = label.count < 36 ? label + String(repeating: " ", count: 36 - label.count) : label + " "
    Swift.print("  " + padded + value)
  }
}
