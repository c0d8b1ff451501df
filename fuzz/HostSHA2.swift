// The RMI targets' SHA-2 block functions, installed through the hook the firmware uses for
// the CPU's SHA instructions: OpenSSL's libcrypto if it can be loaded (SHA-NI/AVX2, about
// 45 ns a SHA-256 block), else the project's own SHA2.swift compiled a second time as
// module HostSHA2 without sanitizers or coverage (about 300 ns; scripts/fuzz-host).
// Instrumented, the compressions of RTT_INIT_RIPAS's per-entry measurement (5 blocks per
// entry, 512 entries for a 2 MiB range) took 40% of rmi_dispatcher's time, and their
// control flow does not depend on the data (SHA2Tests check the Swift compression against
// NIST vectors and coreutils). The instrumented core still runs the hook path of
// compressBlocks, the buffering and the padding.
#if canImport(Glibc)
import Glibc
#endif
import RMMCore
@testable import HostSHA2

private typealias Transform = @convention(c) (UnsafeMutableRawPointer, UnsafeRawPointer) -> Void
/// SHA256_Transform / SHA512_Transform: one block into a SHA256_CTX / SHA512_CTX, whose
/// first member is the state (h[8]).
nonisolated(unsafe) private var sha256Transform: Transform?
nonisolated(unsafe) private var sha512Transform: Transform?
/// A context for either (SHA512_CTX is 216 bytes); only h[8] is used.
nonisolated(unsafe) private let context = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 16)

/// Which implementation the hook uses (printed at startup, so it is in the log).
nonisolated(unsafe) var hostSHA2Implementation = "Swift (HostSHA2, uninstrumented)"

func installUninstrumentedSHA2() {
  if let library = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL),
     let f256 = dlsym(library, "SHA256_Transform"), let f512 = dlsym(library, "SHA512_Transform") {
    sha256Transform = unsafeBitCast(f256, to: Transform.self)
    sha512Transform = unsafeBitCast(f512, to: Transform.self)
    hostSHA2Implementation = "OpenSSL libcrypto.so.3"
    RMMCore.SHA2Acceleration.sha256Blocks = { state, data, count in
      context.copyMemory(from: state!, byteCount: 32)
      for i in 0..<count { sha256Transform!(context, data! + 64 * i) }
      state!.copyMemory(from: context, byteCount: 32)
    }
    RMMCore.SHA2Acceleration.sha512Blocks = { state, data, count in
      context.copyMemory(from: state!, byteCount: 64)
      for i in 0..<count { sha512Transform!(context, data! + 128 * i) }
      state!.copyMemory(from: context, byteCount: 64)
    }
  } else {
    RMMCore.SHA2Acceleration.sha256Blocks = { state, data, count in
      HostSHA2.SHA256.compressBlocks(&state!.assumingMemoryBound(to: InlineArray<8, UInt32>.self).pointee, data!, count)
    }
    RMMCore.SHA2Acceleration.sha512Blocks = { state, data, count in
      HostSHA2.SHA512.compressBlocks(&state!.assumingMemoryBound(to: InlineArray<8, UInt64>.self).pointee, data!, count)
    }
  }
  // Known answers through the hook: "abc", and 200 bytes (several blocks in one call).
  let expected: [(sha512: Bool, message: [UInt8], prefix: [UInt8])] = [
    (false, Array("abc".utf8), [0xba, 0x78, 0x16, 0xbf]),
    (true, Array("abc".utf8), [0xdd, 0xaf, 0x35, 0xa1]),
    (false, [UInt8](repeating: 0x61, count: 200), [0xc2, 0xa9, 0x08, 0xd9]),
    (true, [UInt8](repeating: 0x61, count: 300), [0xa6, 0xa7, 0x70, 0x10]),
  ]
  for (sha512, message, prefix) in expected {
    let digest: RMMCore.Digest64
    if sha512 {
      var h = RMMCore.SHA512()
      message.withUnsafeBytes { h.update($0) }
      digest = h.finalize()
    } else {
      var h = RMMCore.SHA256()
      message.withUnsafeBytes { h.update($0) }
      digest = h.finalize()
    }
    invariant((0..<4).allSatisfy { digest.byte($0) == prefix[$0] },
              "SHA-\(sha512 ? 512 : 256) through the hook (\(hostSHA2Implementation)) gives a wrong digest")
  }
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>,
                       _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
  installUninstrumentedSHA2()
  print("INFO: SHA-2 blocks: \(hostSHA2Implementation)")
  return 0
}
