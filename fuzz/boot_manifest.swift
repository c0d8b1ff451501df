// Fuzz target: the boot manifest parser (BootManifestParser.parse) on an arbitrary
// shared page. Input: 8 bytes of page PA (made page-aligned, as EL3's shared buffer is),
// then the page contents.
import RMMABI
import RMMCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  var input = FuzzInput(data, size)
  let pagePA = input.u64() & ~(granuleSize - 1)
  let page = input.page()
  let manifest: BootManifest
  do throws(ManifestError) {
    manifest = try BootManifestParser.parse(page, pagePA: pagePA)
  } catch {
    _ = error.bootStatus
    return 0
  }
  // What a parsed manifest promises the rest of boot.
  invariant(manifest.dram.bankCount >= 1 && manifest.dram.bankCount <= maxDRAMBanks, "bank count")
  var previousEnd: UInt64 = 0
  for i in 0..<manifest.dram.bankCount {
    let bank = manifest.dram.banks[i]
    invariant(bank.size != 0 && bank.base & (granuleSize - 1) == 0 && bank.size & (granuleSize - 1) == 0,
              "bank \(i) empty or unaligned")
    invariant(bank.base <= UInt64.max - bank.size, "bank \(i) wraps")
    invariant(i == 0 || bank.base >= previousEnd, "banks overlap or unsorted")
    previousEnd = bank.base + bank.size
  }
  _ = manifest.dram.granuleCount
  invariant(manifest.console.base & (granuleSize - 1) == 0, "console unaligned")
  invariant((1...16).contains(manifest.console.mapPages), "console map pages")
  // Parsing is a pure function of the page.
  invariant((try? BootManifestParser.parse(page, pagePA: pagePA)) == manifest, "parse is not deterministic")
  return 0
}
