// RSI fuzzing from inside a realm: seeded random RSI and PSCI calls with hostile
// arguments (IPAs outside the realm, unaligned, unprotected, unmapped; ranges that
// wrap or run past the protected space; wrong indices and sizes; unknown FIDs), mixed
// with valid calls whose effects stay inside scratch state. Every result is checked
// against what the spec says for those arguments; the host serves the exits that
// valid calls cause (host calls, RIPAS changes, AFFINITY_INFO).

import RMMABI
import RMMCore

struct RSIFuzzer {
  var random: FuzzRandom
  var calls: UInt64 = 0
  var mismatches: UInt64 = 0
  var firstMismatchFID: UInt64 = 0
  var firstMismatchX0: UInt64 = 0
  let configPage = realmConfigAddress()
  let hostCallPage = realmHostCallAddress()

  /// IPAs no RSI call may accept: unaligned, unprotected, beyond the IPA space,
  /// protected but never mapped, the top of the address space.
  mutating func hostileIPA() -> UInt64 {
    switch random.below(7) {
    case 0: return configPage + 8 * (1 + random.below(0x1E))  // 8-byte aligned only
    case 1: return RealmLayout.mmio & ~0xFFF
    case 2: return 1 << RealmLayout.ipaWidth
    case 3: return 0x4000_0000               // no RTT below the L1 entry
    case 4: return 0x30_0000                 // L2 entry: unassigned, RIPAS EMPTY
    case 5: return 0xFFFF_FFFF_FFFF_F000
    default: return random.next()
    }
  }

  mutating func expect(_ fid: UInt64, _ got: UInt64, _ wanted: UInt64) {
    calls += 1
    if got != wanted {
      if mismatches == 0 {
        firstMismatchFID = fid
        firstMismatchX0 = got
      }
      mismatches += 1
    }
  }

  mutating func step() {
    let success = RSIStatus.success.rawValue, input = RSIStatus.errorInput.rawValue
    switch random.below(13) {
    case 0:
      let requested = random.percent(50) ? rsiABIVersion.encoded : random.next() & 0xFFFF_FFFF
      let r = rsi(.version, requested)
      expect(RSICommand.version.rawValue, r.x0, requested == rsiABIVersion.encoded ? success : input)
    case 1:
      expect(RSICommand.features.rawValue, rsi(.features, random.next()).x0, success)
    case 2:
      let index = random.percent(70) ? random.below(5) : random.next()
      expect(RSICommand.measurementRead.rawValue, rsi(.measurementRead, index).x0, index <= 4 ? success : input)
    case 3:
      let index = random.percent(70) ? 1 + random.below(4) : random.next()
      let size = random.percent(70) ? random.below(65) : random.next()
      let r = rsi(.measurementExtend, index, size, random.next(), random.next(), random.next(), random.next(),
                  random.next(), random.next(), random.next(), random.next())
      expect(RSICommand.measurementExtend.rawValue, r.x0, index >= 1 && index <= 4 && size <= 64 ? success : input)
    case 4:
      let valid = random.percent(30)
      expect(RSICommand.realmConfig.rawValue, rsi(.realmConfig, valid ? configPage : hostileIPA()).x0,
             valid ? success : input)
    case 5:
      // A valid host call carries an immediate the host ignores (0x100 and up).
      if random.percent(30) {
        let structure = UnsafeMutablePointer<UInt64>(bitPattern: UInt(hostCallPage))!
        structure[0] = 0x100 + random.below(0xFF00)
        for i in 1..<32 { structure[i] = random.next() }
        expect(RSICommand.hostCall.rawValue, rsi(.hostCall, hostCallPage).x0, success)
      } else {
        expect(RSICommand.hostCall.rawValue, rsi(.hostCall, hostileIPA()).x0, input)
      }
    case 6:
      ipaStateSet()
    case 7:
      ipaStateGet()
    case 8:
      // Attestation: INIT takes any challenge; CONTINUE refuses hostile destinations
      // and out-of-granule ranges before doing any work (valid ones would sign: slow).
      if random.percent(30) {
        let r = rsi(.attestTokenInit, random.next(), random.next(), random.next(), random.next(), random.next(),
                    random.next(), random.next(), random.next())
        expect(RSICommand.attestTokenInit.rawValue, r.x0, success)
      } else {
        let fid = RSICommand.attestTokenContinue.rawValue
        if random.percent(50) {
          expect(fid, rsi(fid, hostileIPA(), random.below(4096), random.below(8)).x0, input)
        } else {
          let offset = random.percent(50) ? 4096 + random.below(1 << 20) : random.below(4096)
          let size = 4097 - offset % 4096 + random.below(1 << 30)  // always past the granule's end
          expect(fid, rsi(fid, AttestationLayout.tokenC, offset, size).x0, input)
        }
      }
    case 9:
      // FIDs in the RSI range with no command behind them.
      let fid = 0xC400_019A + random.below(0x16)
      expect(fid, rsi(fid, random.next(), random.next()).x0, smcUnknown)
    case 10:
      // CPU_ON for a REC the realm does not have; MPIDR with reserved bits.
      let target = random.percent(50) ? 2 + random.below(14) : random.next() | 1 << 40
      expect(PSCIFunction.cpuOn.smc64, rsi(PSCIFunction.cpuOn.smc64, target, 0x1000, 0).x0,
             UInt64(bitPattern: PSCIStatus.invalidParameters.rawValue))
    case 11:
      // AFFINITY_INFO: lowest affinity level other than 0 is invalid.
      let level = 1 + random.below(3)
      expect(PSCIFunction.affinityInfo.smc64, rsi(PSCIFunction.affinityInfo.smc64, 0, level).x0,
             UInt64(bitPattern: PSCIStatus.invalidParameters.rawValue))
    default:
      let r = rsi(PSCIFunction.features.rawValue, 0x8400_0000 | random.below(0x100) | (random.percent(50) ? 0x4000_0000 : 0))
      // Implemented functions answer 0, everything else NOT_SUPPORTED.
      calls += 1
      if r.x0 != 0 && r.x0 != smcUnknown {
        if mismatches == 0 {
          firstMismatchFID = PSCIFunction.features.rawValue
          firstMismatchX0 = r.x0
        }
        mismatches += 1
      }
    }
  }

  /// RIPAS changes: hostile ranges are refused without an exit; valid ones, inside
  /// the test region, go to the host (which accepts them) and complete.
  mutating func ipaStateSet() {
    let fid = RSICommand.ipaStateSet.rawValue
    let base = RealmLayout.ripasTest
    let ripas = random.below(2)
    switch random.below(6) {
    case 0: expect(fid, rsi(fid, base + 0x800, base + 0x2000, ripas, 0).x0, RSIStatus.errorInput.rawValue)
    case 1: expect(fid, rsi(fid, base + 0x2000, base, ripas, 0).x0, RSIStatus.errorInput.rawValue)  // wraps
    case 2: expect(fid, rsi(fid, base, 1 << 39 + 0x1000, ripas, 0).x0, RSIStatus.errorInput.rawValue)
    case 3: expect(fid, rsi(fid, base, base + 0x1000, 2 + random.below(8), 0).x0, RSIStatus.errorInput.rawValue)
    case 4: expect(fid, rsi(fid, base, base + 0x1000, ripas, 2 + random.below(8) << 1).x0, RSIStatus.errorInput.rawValue)
    default:
      let r = rsi(fid, base, base + 0x1000 * (1 + random.below(2)), ripas, 0)
      expect(fid, r.x0, RSIStatus.success.rawValue)
    }
  }

  mutating func ipaStateGet() {
    let fid = RSICommand.ipaStateGet.rawValue
    if random.percent(40) {
      let r = rsi(fid, RealmLayout.ripasTest, RealmLayout.ripasTest + 0x2000)
      expect(fid, r.x0, RSIStatus.success.rawValue)
    } else {
      let base = random.percent(50) ? hostileIPA() : RealmLayout.ripasTest + 0x1000
      let end = random.percent(50) ? base : base &- 0x1000   // empty or wrapped range
      expect(fid, rsi(fid, base, end).x0, RSIStatus.errorInput.rawValue)
    }
  }
}

/// Runs `count` fuzz calls and reports them to the host (host call 7) and as a check.
func runRSIFuzz(seed: UInt64, count: UInt64) {
  _ = hostCall(HostCallCode.fuzzSeed, first: seed, text: "")
  var fuzzer = RSIFuzzer(random: FuzzRandom(seed: seed))
  while fuzzer.calls < count { fuzzer.step() }
  let structure = UnsafeMutablePointer<UInt64>(bitPattern: UInt(realmHostCallAddress()))!
  for i in 0..<32 { structure[i] = 0 }
  structure[0] = HostCallCode.fuzzReport
  structure[1] = fuzzer.calls
  structure[2] = fuzzer.mismatches
  structure[3] = fuzzer.firstMismatchFID
  structure[4] = fuzzer.firstMismatchX0
  _ = rsi(.hostCall, realmHostCallAddress())
  check(fuzzer.mismatches == 0, "RSI/PSCI fuzzing: every result is the one the spec gives")
}
