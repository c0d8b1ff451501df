// swift-tools-version: 6.2
// Host side of the project: the pure-Swift core (RMMABI, RMMCore) built for the host,
// its XCTest suites, and the host tools. The firmware images (RMMFirmware, TestHost,
// TestRealm) are built from the same sources in Embedded mode by scripts/build,
// because SwiftPM cannot build per-triple targets alongside `swift test`.
import PackageDescription

let package = Package(
  name: "swift-rmm",
  products: [
    .library(name: "RMMCore", targets: ["RMMCore"]),
    .executable(name: "rmm-audit", targets: ["rmm-audit"]),
    .executable(name: "cca-token", targets: ["cca-token"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: [
    // The spec as data: FIDs, status codes, structure layouts. No logic, no imports.
    .target(name: "RMMABI"),
    // All behaviour that can be stated without a CPU. Imports only RMMABI.
    .target(name: "RMMCore", dependencies: ["RMMABI"]),
    // The NS host's realm VMM (boots Linux as a realm): device models and their list-
    // register bookkeeping. Pure Swift, built for the host tests and for the NS payload.
    .target(name: "RealmVMM"),
    // Host tools.
    .target(name: "RMMAuditAnalysis", dependencies: ["RMMCore", "RMMABI", "CCATokenVerifier"]),
    .executableTarget(name: "rmm-audit", dependencies: [
      "RMMAuditAnalysis", .product(name: "ArgumentParser", package: "swift-argument-parser"),
    ]),
    // The CCA attestation token verifier: OpenSSL (libcrypto) for ES384 and SHA-2, so the
    // check does not trust the RMM's own crypto.
    .systemLibrary(name: "CLibcrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
    .target(name: "CCATokenVerifier", dependencies: ["RMMABI", "CLibcrypto"]),
    .executableTarget(name: "cca-token", dependencies: [
      "CCATokenVerifier", "RMMABI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
    ]),
    .testTarget(name: "RMMABITests", dependencies: ["RMMABI"]),
    .testTarget(name: "RMMCoreTests", dependencies: ["RMMCore", "RMMABI", "CCATokenVerifier"]),
    .testTarget(name: "RMMAuditAnalysisTests", dependencies: ["RMMAuditAnalysis", "RMMCore", "RMMABI", "CCATokenVerifier"]),
    .testTarget(name: "CCATokenVerifierTests", dependencies: ["CCATokenVerifier", "RMMABI"]),
    .testTarget(name: "RealmVMMTests", dependencies: ["RealmVMM"]),
  ]
)
