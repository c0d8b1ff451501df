// Guest-instruction benchmarks. Run under QEMU -icount shift=0, where the counter
// advances by one tick per instruction executed, so a tick delta is an instruction
// count (including EL3's and the RMM's instructions, which is the point).

import AArch64Shim
import RMMABI
import RMMCore

func report(_ name: StaticString, _ ticks: UInt64, _ iterations: UInt64) {
  console.write("BENCH ")
  console.write(name)
  console.write(" ")
  console.decimal(ticks / iterations)
  console.newline()
}

func runBenchmarks() {
  let iterations: UInt64 = 1000
  _ = rmi(.version, rmiABIVersion.encoded)
  var start = counter()
  for _ in 0..<iterations { _ = rmi(.version, rmiABIVersion.encoded) }
  report("rmi_version", counter() &- start, iterations)

  start = counter()
  var failures: UInt64 = 0
  for i in 0..<iterations {
    let pa = Board.testGranules + 0x20_0000 + i * 0x1000
    failures |= rmi(.granuleDelegate, pa).x0
    failures |= rmi(.granuleUndelegate, pa).x0
  }
  report("granule_delegate_undelegate", counter() &- start, iterations)
  console.write("BENCH failures ")
  console.decimal(failures == 0 ? 0 : 1)
  console.newline()
}
