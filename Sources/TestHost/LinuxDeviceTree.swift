// Device trees for the Linux realm, through libfdt (Debian's device-tree-compiler
// source, built freestanding by scripts/lib/build-libfdt.sh): the platform's own tree,
// which QEMU and TF-A leave at the start of DRAM, is read for what the host needs of
// the machine; the realm's tree is written with libfdt's sequential-write API and
// describes exactly the RealmLayout the VMM emulates.

import AArch64Shim
import CLibfdt
import RealmVMM

/// What the host takes from the platform's device tree (board constants where the
/// tree says nothing).
struct PlatformDescription {
  var uart: UInt64 = UInt64(Board.uartBase)
  var distributor: UInt64 = Board.gicDistributor
  var redistributor: UInt64 = Board.gicRedistributor
  var memoryBase: UInt64 = 0
  var memorySize: UInt64 = 0
  var fromDeviceTree = false

  static func read(at pa: UInt64) -> PlatformDescription {
    var description = PlatformDescription()
    guard let fdt = UnsafeRawPointer(bitPattern: UInt(pa)), fdt_check_header(fdt) == 0 else { return description }
    description.fromDeviceTree = true
    // The console is the UART /chosen/stdout-path names (QEMU's tree also has the
    // secure world's PL011, disabled for NS).
    let chosen = fdt_path_offset(fdt, cString("/chosen"))
    var length: Int32 = 0
    if chosen >= 0, let path = fdt_getprop(fdt, chosen, cString("stdout-path"), &length),
       let reg = register(fdt, fdt_path_offset(fdt, path.assumingMemoryBound(to: CChar.self)), index: 0) {
      description.uart = reg.0
    }
    if let gic = firstRegister(fdt, compatible: "arm,gic-v3") { description.distributor = gic.0 }
    if let gicr = register(fdt, fdt_node_offset_by_compatible(fdt, -1, cString("arm,gic-v3")), index: 1) {
      description.redistributor = gicr.0
    }
    let memory = fdt_path_offset(fdt, cString("/memory@40000000"))
    if let bank = register(fdt, memory, index: 0) {
      description.memoryBase = bank.0
      description.memorySize = bank.1
    }
    return description
  }

  static func firstRegister(_ fdt: UnsafeRawPointer, compatible: StaticString) -> (UInt64, UInt64)? {
    // The first such node (GICv3: one).
    register(fdt, fdt_node_offset_by_compatible(fdt, -1, cString(compatible)), index: 0)
  }

  /// Entry `index` of a node's `reg` (two address and two size cells, as QEMU's virt has).
  static func register(_ fdt: UnsafeRawPointer, _ node: Int32, index: Int) -> (UInt64, UInt64)? {
    guard node >= 0 else { return nil }
    var length: Int32 = 0
    guard let property = fdt_getprop(fdt, node, cString("reg"), &length), Int(length) >= (index + 1) * 16 else { return nil }
    let bytes = property.assumingMemoryBound(to: UInt8.self)
    func cell64(_ at: Int) -> UInt64 {
      var value: UInt64 = 0
      for i in 0..<8 { value = value << 8 | UInt64(bytes[at + i]) }
      return value
    }
    return (cell64(index * 16), cell64(index * 16 + 8))
  }
}

func cString(_ text: StaticString) -> UnsafePointer<CChar> {
  UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// The realm's device tree, written into `buffer` (NS memory, `capacity` bytes).
struct RealmDeviceTree {
  let fdt: UnsafeMutableRawPointer
  var failed = false

  init(buffer: UInt64, capacity: Int) {
    fdt = UnsafeMutableRawPointer(bitPattern: UInt(buffer))!
    failed = fdt_create(fdt, Int32(capacity)) != 0 || fdt_finish_reservemap(fdt) != 0
  }

  /// The size of the finished tree (its header's totalsize).
  var size: UInt64 {
    let b = fdt.assumingMemoryBound(to: UInt8.self)
    return UInt64(b[4]) << 24 | UInt64(b[5]) << 16 | UInt64(b[6]) << 8 | UInt64(b[7])
  }

  mutating func begin(_ name: StaticString) { failed = failed || fdt_begin_node(fdt, cString(name)) != 0 }
  mutating func end() { failed = failed || fdt_end_node(fdt) != 0 }

  /// A string property; a StaticString may hold several strings separated by NULs
  /// (a string list such as `compatible`).
  mutating func string(_ name: StaticString, _ value: StaticString) {
    failed = failed || fdt_property(fdt, cString(name), value.utf8Start, Int32(value.utf8CodeUnitCount + 1)) != 0
  }

  mutating func empty(_ name: StaticString) { failed = failed || fdt_property(fdt, cString(name), nil, 0) != 0 }

  mutating func u32(_ name: StaticString, _ value: UInt32) {
    failed = failed || fdt_property_u32(fdt, cString(name), value) != 0
  }

  /// A property of big-endian 32-bit cells.
  mutating func cells(_ name: StaticString, _ values: InlineArray<12, UInt32>, count: Int) {
    var bigEndian = values
    for i in 0..<count { bigEndian[i] = values[i].bigEndian }
    let ok = withUnsafePointer(to: &bigEndian) { pointer in
      fdt_property(fdt, cString(name), UnsafeRawPointer(pointer), Int32(4 * count)) == 0
    }
    failed = failed || !ok
  }

  /// A property of bytes at a physical address (the kernel command line).
  mutating func bytes(_ name: StaticString, at pa: UInt64, count: Int) {
    failed = failed || fdt_property(fdt, cString(name), UnsafeRawPointer(bitPattern: UInt(pa)), Int32(count)) != 0
  }

  mutating func finish() { failed = failed || fdt_finish(fdt) != 0 }

  static func split(_ value: UInt64) -> (UInt32, UInt32) {
    (UInt32(truncatingIfNeeded: value >> 32), UInt32(truncatingIfNeeded: value))
  }

  /// A `reg` entry of two address and two size cells.
  static func reg(_ base: UInt64, _ size: UInt64) -> InlineArray<12, UInt32> {
    var cells: InlineArray<12, UInt32> = .init(repeating: 0)
    (cells[0], cells[1]) = split(base)
    (cells[2], cells[3]) = split(size)
    return cells
  }

  /// Writes the whole tree for `layout`: memory, vCPUs (PSCI over SMC, as the RMM
  /// answers), the architected timer, the GICv3 (no ITS), the PL011 with its clock,
  /// and /chosen with the command line and the initramfs.
  static func build(into buffer: UInt64, capacity: Int, layout: RealmLayout, commandLine: UInt64,
                    commandLineLength: Int, initrdSize: UInt64) -> UInt64? {
    var t = RealmDeviceTree(buffer: buffer, capacity: capacity)
    let gicPhandle: UInt32 = 1, clockPhandle: UInt32 = 2
    t.begin("")
    t.u32("#address-cells", 2)
    t.u32("#size-cells", 2)
    t.string("compatible", "linux,dummy-virt")
    t.string("model", "swift-rmm realm")
    t.u32("interrupt-parent", gicPhandle)

    t.begin("chosen")
    t.bytes("bootargs", at: commandLine, count: commandLineLength + 1)
    t.string("stdout-path", "/pl011@9000000")
    if initrdSize > 0 {
      var start: InlineArray<12, UInt32> = .init(repeating: 0)
      (start[0], start[1]) = split(layout.initrd)
      t.cells("linux,initrd-start", start, count: 2)
      var end: InlineArray<12, UInt32> = .init(repeating: 0)
      (end[0], end[1]) = split(layout.initrd + initrdSize)
      t.cells("linux,initrd-end", end, count: 2)
    }
    t.end()

    t.begin("memory@40000000")
    t.string("device_type", "memory")
    t.cells("reg", reg(layout.ramBase, layout.ramSize), count: 4)
    t.end()

    t.begin("cpus")
    t.u32("#address-cells", 1)
    t.u32("#size-cells", 0)
    for cpu in 0..<layout.cpuCount {
      if cpu == 0 { t.begin("cpu@0") } else { t.begin("cpu@1") }
      t.string("device_type", "cpu")
      t.string("compatible", "arm,arm-v8")
      t.u32("reg", UInt32(cpu))
      t.string("enable-method", "psci")
      t.end()
    }
    t.end()

    t.begin("psci")
    t.string("compatible", "arm,psci-1.0\u{0}arm,psci-0.2")
    t.string("method", "smc")
    t.end()

    // Secure physical, non-secure physical, virtual and hypervisor timer PPIs
    // (INTIDs 29, 30, 27, 26), level high.
    t.begin("timer")
    t.string("compatible", "arm,armv8-timer")
    let timers: InlineArray<12, UInt32> = [1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4]
    t.cells("interrupts", timers, count: 12)
    t.empty("always-on")
    t.end()

    // The PMU (a realm created with flags.pmu): its overflow interrupt is PPI 7 (INTID
    // 23), level high.
    if pmuInDeviceTree {
      t.begin("pmu")
      t.string("compatible", "arm,armv8-pmuv3")
      let pmu: InlineArray<12, UInt32> = [1, 7, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]
      t.cells("interrupts", pmu, count: 3)
      t.end()
    }

    t.begin("intc@8000000")
    t.string("compatible", "arm,gic-v3")
    t.u32("#interrupt-cells", 3)
    t.u32("#address-cells", 2)
    t.u32("#size-cells", 2)
    t.empty("interrupt-controller")
    var gicRegs = reg(layout.distributor, 0x1_0000)
    let redistributors = reg(layout.redistributors, VirtualGIC.redistributorStride * UInt64(layout.cpuCount))
    for i in 0..<4 { gicRegs[4 + i] = redistributors[i] }
    t.cells("reg", gicRegs, count: 8)
    t.u32("#redistributor-regions", 1)
    t.u32("phandle", gicPhandle)
    t.end()

    t.begin("apb-pclk")
    t.string("compatible", "fixed-clock")
    t.u32("#clock-cells", 0)
    t.u32("clock-frequency", 24_000_000)
    t.string("clock-output-names", "clk24mhz")
    t.u32("phandle", clockPhandle)
    t.end()

    t.begin("pl011@9000000")
    t.string("compatible", "arm,pl011\u{0}arm,primecell")
    t.cells("reg", reg(layout.uart, VirtualPL011.size), count: 4)
    var interrupts: InlineArray<12, UInt32> = .init(repeating: 0)
    interrupts[1] = UInt32(layout.uartSPI)
    interrupts[2] = 4
    t.cells("interrupts", interrupts, count: 3)
    var clocks: InlineArray<12, UInt32> = .init(repeating: 0)
    clocks[0] = clockPhandle
    clocks[1] = clockPhandle
    t.cells("clocks", clocks, count: 2)
    t.string("clock-names", "uartclk\u{0}apb_pclk")
    t.end()

    t.end()
    t.finish()
    return t.failed ? nil : t.size
  }
}
