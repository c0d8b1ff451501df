// Interrupts a realm takes through its GIC virtual CPU interface, and its EL1 timer:
// what a Linux guest relies on and the other tests never needed (issue #14). The realm
// keeps PSTATE.I masked and polls the interface (ICC_IAR1_EL1 acknowledges a pending
// virtual interrupt whatever PSTATE says), so no vector is involved.

import AArch64Shim
import RMMABI
import RMMCore

func runInterruptTests() {
  // A virtual interrupt the host lists, acknowledged before an exit and ended after it:
  // the end (ICC_EOIR1_EL1) finds the interrupt's active priority only if the RMM saved
  // ICH_AP1R0_EL2 with the REC at the exit and restored it at the entry.
  write_icc_pmr_el1(0xFF)
  write_icc_igrpen1_el1(1)
  isb()
  _ = hostCall(HostCallCode.listInterrupt, first: 5, text: "")
  let acknowledged = read_icc_iar1_el1() & 0xFF_FFFF
  check(acknowledged == 5, "a virtual interrupt the host listed is pending: ICC_IAR1_EL1 acknowledges INTID 5")
  let whileActive = hostCall(HostCallCode.listRegisterState, text: "")
  check(whileActive >> 62 == 2 && whileActive & 0xFFFF_FFFF == 5,
        "acknowledged: the exit's list register shows it active (the host lists it again so)")
  write_icc_eoir1_el1(5)
  isb()
  let ended = hostCall(HostCallCode.listRegisterState, text: "")
  check(acknowledged == 5 && ended >> 62 == 0,
        "ended after an exit: its active priority came back with the REC (ICH_AP1R0_EL2), so EOI deactivated it")
  write_icc_igrpen1_el1(0)
  isb()

  // An SGI (an IPI of a guest OS): the write to ICC_SGI1R_EL1 traps and reaches the
  // host, which owns the virtual distributor, with the value; the realm goes on after it.
  let sgi: UInt64 = 3 << 24 | 1 << 16 | 0b10  // INTID 3, Aff1 1, TargetList {1}
  write_icc_sgi1r_el1(sgi)
  isb()
  let seen = hostCall(HostCallCode.lastSGI, text: "")
  check(seen == sgi, "a write to ICC_SGI1R_EL1 exits to the host with its value in gprs[0]")

  // The EL1 virtual timer asserted: its physical interrupt makes the REC exit (IRQ);
  // from the next entry the RMM masks it (CNTHCTL_EL2.CNTVMASK, A6.2), so the realm
  // runs on while its timer stays asserted. Without the mask it would exit at once at
  // every entry and never get here.
  let irqsBefore = hostCall(HostCallCode.irqExitCount, text: "")
  write_cntv_cval_el0(read_cntvct_el0())
  write_cntv_ctl_el0(1)
  isb()
  let start = read_cntvct_el0()
  while read_cntvct_el0() &- start < 2_000_000 {}  // 2 ms with the timer asserted
  let control = read_cntv_ctl_el0()
  write_cntv_ctl_el0(0)
  isb()
  let irqsAfter = hostCall(HostCallCode.irqExitCount, text: "")
  check(control & 0b101 == 0b101, "the virtual timer was enabled with its condition met (ISTATUS)")
  check(irqsAfter > irqsBefore && irqsAfter &- irqsBefore <= 3,
        "an asserted EL1 timer exits once (IRQ), then is masked at entry and the realm runs on")
}
