// The LPA2 realm's part (TestHost/LPA2Tests.swift runs it: REC 0's x2 = 2). The realm
// has a 52-bit IPA space whose tables start at level -1; the host has put a measured
// DATA page at `address`, above 2^48. The MMU is off, so VA = IPA and every access goes
// through stage 2's level -1 table; PARange (52 bits on QEMU -cpu max) lets a stage-1
// output address that high through.

import RMMABI

func runLPA2Touch(address: UInt64, expected: UInt64) {
  let config = realmConfigAddress()
  check(rsi(.realmConfig, config).x0 == rsiSuccess && UnsafePointer<UInt64>(bitPattern: UInt(config))![0] == 52,
        "LPA2 realm: RsiRealmConfig ipa_width 52")
  let state = rsi(.ipaStateGet, address, address + 0x1000)
  check(state.x0 == rsiSuccess && state.x1 == address + 0x1000 && state.x2 == RIPAS.ram.rawValue,
        "LPA2 realm: RSI_IPA_STATE_GET above 2^48: RAM (a walk from level -1)")
  check(realmProbe(address) == 0, "LPA2 realm: a load from an IPA above 2^48 does not fault")
  let page = UnsafeMutablePointer<UInt64>(bitPattern: UInt(address))!
  check(page[0] == expected && page[511] == ~expected, "LPA2 realm: it reads the host's measured contents")
  page[1] = expected &* 3
  check(realmProbe(address + 8) == 0 && page[1] == expected &* 3, "LPA2 realm: a store there reads back")
  _ = rsi(PSCIFunction.systemOff.rawValue)
}
