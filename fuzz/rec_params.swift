// Fuzz target: RmiRecParams validation (RECParameters.validate) on an arbitrary
// parameter page, and the MPIDR helpers on what it accepts.
import RMMABI
import RMMCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  var input = FuzzInput(data, size)
  let page = input.page()
  typealias L = RecParamsLayout
  let params: RECParameters
  do throws(RECParameters.Defect) {
    params = try RECParameters.validate(page)
  } catch {
    return 0
  }
  invariant(params.flags & ~L.flagRunnable == 0, "reserved flags")
  invariant(params.runnable == (params.flags & L.flagRunnable != 0), "runnable")
  invariant(params.mpidr & ~0xFFFF_FF0F == 0, "MPIDR bits")
  invariant(params.auxCount <= maximumRECAuxGranules, "aux count")
  invariant(params.pc == page.load64(at: L.pc), "pc")
  for i in 0..<8 { invariant(params.gprs[i] == page.load64(at: L.gprs + 8 * i), "gpr \(i)") }
  for i in 0..<params.auxCount {
    invariant(params.aux[i] & (granuleSize - 1) == 0, "aux \(i) unaligned")
    invariant(params.aux[i] == page.load64(at: L.aux + 8 * i), "aux \(i)")
  }
  for i in params.auxCount..<16 { invariant(params.aux[i] == 0, "aux \(i) beyond the count") }
  // The REC index is a bijection of the valid MPIDR bits into 28 bits.
  let index = RECParameters.index(ofMPIDR: params.mpidr)
  invariant(index < 1 << 28, "REC index range")
  let back = (index & 0xF) | ((index >> 4) & 0xFF) << 8 | ((index >> 12) & 0xFF) << 16 | ((index >> 20) & 0xFF) << 24
  invariant(back == params.mpidr, "REC index does not identify the MPIDR")
  let vmpidr = RECParameters.vmpidr(ofMPIDR: params.mpidr)
  invariant(vmpidr & (1 << 31) != 0 && vmpidr >> 40 == 0, "VMPIDR")
  return 0
}
