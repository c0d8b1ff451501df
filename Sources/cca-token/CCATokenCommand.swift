// cca-token: verifies CCA attestation tokens (RMM 1.0) produced by the Swift RMM, from
// a binary token or from captured console output (CCA_TOKEN lines).
import ArgumentParser
import CCATokenVerifier
import Foundation
import RMMABI

@main
struct CCATokenCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cca-token",
    abstract: "Verify, extract or build CCA attestation tokens (RMM 1.0).",
    subcommands: [Verify.self, Extract.self, Sample.self])
}

struct Verify: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Check a token: realm signature, binding to the platform token, claims; print the claims.",
    discussion: """
      Exits 0 only if every check passes ('verified' is printed last); otherwise prints \
      the reason and exits 1. The platform token's signature is not checked (it is made \
      with the platform's key; on QEMU TF-A's fixed sample token).
      """)

  @Argument(help: "A binary token (starts with d9 01 8f) or console output with CCA_TOKEN lines.")
  var file: String

  @Option(help: "In console output, the label of the token (default: the first).")
  var name: String?

  @Option(help: "The expected challenge (hex, 64 bytes).")
  var challenge: String?

  @Option(help: "The expected initial measurement, RIM (hex).")
  var rim: String?

  @Flag(help: "Print only the verdict.")
  var quiet = false

  func validate() throws {
    if let challenge, hexBytes(challenge) == nil { throw ValidationError("--challenge is not hex") }
    if let rim, hexBytes(rim) == nil { throw ValidationError("--rim is not hex") }
  }

  func run() throws {
    let expectations = CCATokenExpectations(challenge: challenge.flatMap(hexBytes), initialMeasurement: rim.flatMap(hexBytes))
    let bytes: [UInt8]
    let token: ParsedCCAToken
    do {
      bytes = try readToken(file, name: name)
      token = try ParsedCCAToken(bytes)
    } catch {
      print("not verified: \(error)")
      throw ExitCode(1)
    }
    if !quiet { TokenPrinter.print(token, size: bytes.count) }
    do {
      try CCATokenVerifier.verify(token, expecting: expectations)
    } catch {
      print("not verified: \(error)")
      throw ExitCode(1)
    }
    if !quiet {
      print("checks: realm ES384 signature with the key in 44237; platform challenge = SHA-256(44237);")
      print("        realm claims, profile and measurement sizes; platform token is an ES384 COSE_Sign1"
            + (expectations.challenge != nil ? "; expected challenge" : "")
            + (expectations.initialMeasurement != nil ? "; expected RIM" : ""))
    }
    print("verified")
  }
}

struct Extract: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Write the binary token found in console output.")

  @Argument(help: "Console output with CCA_TOKEN lines (a binary token is copied as is).")
  var log: String

  @Option(help: "The label of the token (default: the first).")
  var name: String?

  @Option(name: .shortAndLong, help: "Where to write the token.")
  var output: String

  func run() throws {
    let bytes = try readToken(log, name: name)
    try writeFile(bytes, to: output)
  }
}

struct Sample: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Build a test token signed with QEMU's test realm attestation key.",
    discussion: """
      Without --platform-token, the platform token is built here too (signed with a \
      random key) and bound to the realm key. For exercising the verifiers without a \
      running RMM.
      """)

  @Option(name: .shortAndLong, help: "Where to write the token.")
  var output: String

  @Flag(help: "Write it as console output (CCA_TOKEN lines) instead of binary.")
  var log = false

  @Option(help: "The label in console output.")
  var name = "sample"

  @Option(help: "The challenge (hex, 64 bytes; default a fixed pattern).")
  var challenge: String?

  @Option(help: "The RIM (hex; default a fixed digest).")
  var rim: String?

  @Option(help: "Measurement algorithm: sha-256 or sha-512.")
  var hashAlgorithm = "\(RealmClaim.sha256Name)"

  @Option(help: "A binary platform token (COSE_Sign1) to embed, e.g. TF-A's QEMU sample.")
  var platformToken: String?

  func validate() throws {
    if let challenge, hexBytes(challenge) == nil { throw ValidationError("--challenge is not hex") }
    if let rim, hexBytes(rim) == nil { throw ValidationError("--rim is not hex") }
    if CCATokenVerifier.digestSize(ofHashAlgorithm: hashAlgorithm) == nil {
      throw ValidationError("--hash-algorithm must be \(RealmClaim.sha256Name) or \(RealmClaim.sha512Name)")
    }
  }

  func run() throws {
    var builder = CCATokenBuilder(realmKey: try QEMUTestRAK.privateKey(), platformKey: try ES384PrivateKey())
    let digestSize = CCATokenVerifier.digestSize(ofHashAlgorithm: hashAlgorithm)!
    builder.hashAlgorithm = hashAlgorithm
    builder.initialMeasurement = rim.flatMap(hexBytes) ?? [UInt8](repeating: 0xa5, count: digestSize)
    builder.extensibleMeasurements = builder.extensibleMeasurements.map { _ in [UInt8](repeating: 0, count: digestSize) }
    if let challenge { builder.challenge = hexBytes(challenge)! }
    if let platformToken { builder.platformToken = try readFile(platformToken) }
    let token = try builder.build()
    try writeFile(log ? Array(ConsoleCapture.format(token, name: name).utf8) : token, to: output)
  }
}

// MARK: - Files

struct ToolError: Error, CustomStringConvertible {
  let description: String
}

func readFile(_ path: String) throws -> [UInt8] {
  guard let data = FileManager.default.contents(atPath: path) else { throw ToolError(description: "cannot read \(path)") }
  return [UInt8](data)
}

func writeFile(_ bytes: [UInt8], to path: String) throws {
  guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
    throw ToolError(description: "cannot write \(path)")
  }
}

/// The binary token in `path`, either as is or picked out of console output.
func readToken(_ path: String, name: String?) throws -> [UInt8] {
  let contents = try readFile(path)
  if ConsoleCapture.isBinaryToken(contents) { return contents }
  do {
    return try ConsoleCapture.token(in: String(decoding: contents, as: UTF8.self), named: name)
  } catch {
    throw ToolError(description: "\(path): \(error)")
  }
}
