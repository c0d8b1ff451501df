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
  ],
  targets: [
    // The spec as data: FIDs, status codes, structure layouts. No logic, no imports.
    .target(name: "RMMABI"),
    // All behaviour that can be stated without a CPU. Imports only RMMABI.
    .target(name: "RMMCore", dependencies: ["RMMABI"]),
    .testTarget(name: "RMMABITests", dependencies: ["RMMABI"]),
    .testTarget(name: "RMMCoreTests", dependencies: ["RMMCore", "RMMABI"]),
  ]
)
