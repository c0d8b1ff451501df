/*
 * RMM entry at R-EL2 under TF-A (RMMD), cold and warm boot, and the RMI loop.
 *
 * Cold boot (primary CPU, once): x0 = CPU index, x1 = RMM-EL3 interface version,
 * x2 = number of CPUs, x3 = PA of the EL3<->RMM shared page (boot manifest).
 * Warm boot (every CPU the host starts with PSCI CPU_ON): x0 = CPU index, x1-x3 = 0.
 * Both enter here with the MMU and caches off, DAIF masked. The MMU and caches are
 * on before any Swift code runs. Both paths end with SMC RMM_BOOT_COMPLETE; EL3 then
 * resumes us right after that SMC with an RMI call in x0-x7, and after each
 * SMC RMM_RMI_REQ_COMPLETE with the next one.
 */
#include "rmm_layout.h"

#define RMM_BOOT_COMPLETE               0xC40001CF
#define RMM_RMI_REQ_COMPLETE            0xC400018F
#define E_RMM_BOOT_UNKNOWN              (-1)
#define E_RMM_BOOT_CPU_ID_OUT_OF_RANGE  (-4)

.macro adr_l reg, sym
	adrp	\reg, \sym
	add	\reg, \reg, :lo12:\sym
.endm

	.section .text.entry, "ax"
	.global	rmm_entry
rmm_entry:
	/* No stack before the CPU index is known to be in range. */
	cmp	x0, #RMM_MAX_CPUS
	b.lo	1f
	mov	x1, #E_RMM_BOOT_CPU_ID_OUT_OF_RANGE
	b	report_boot_status
1:	mov	x19, x0
	mov	x20, x1
	mov	x21, x2
	mov	x22, x3

	adr_l	x9, rmm_vectors
	msr	vbar_el2, x9
	msr	tpidr_el2, x19			/* per-CPU index for Swift */

	/* CPTR_EL2 (E2H = 0): RES1 bits, TZ, TFP, TSM set: any FP/SIMD/SVE/SME use traps;
	 * TTA and TAM: trace and activity-monitor registers trap too (realms get none). */
	mov	x9, #0x37ff
	movk	x9, #0x4010, lsl #16
	msr	cptr_el2, x9
	isb

	/* SP_EL0 = top of this CPU's exception stack; sp (SP_EL2) = top of its stack. */
	adr_l	x9, __stacks_start
	add	x10, x19, #1
	lsl	x10, x10, #RMM_STACK_SHIFT
	add	x9, x9, x10
	msr	sp_el0, x9
	sub	sp, x9, #RMM_EXCEPTION_STACK_SIZE

	adr_l	x9, rmm_cold_boot_done
	ldr	x10, [x9]
	cbnz	x10, warm_boot
	/* A warm-boot signature before the cold boot finished cannot be served. */
	orr	x10, x20, x22
	cbnz	x10, cold_boot
	mov	x1, #E_RMM_BOOT_UNKNOWN
	b	report_boot_status

cold_boot:
	/* Zero .bss (granule descriptors and page tables included). The stacks are not
	 * in .bss: this CPU's is already in use. */
	adr_l	x9, __bss_start
	adr_l	x10, __bss_end
2:	cmp	x9, x10
	b.hs	3f
	stp	xzr, xzr, [x9], #16
	b	2b
3:	mov	x0, x22
	bl	rmm_mmu_build_tables		/* C, MMU off: returns 0 or a boot status */
	cbz	x0, 4f
	mov	x1, x0
	b	report_boot_status
4:	bl	rmm_mmu_enable_cold
	mov	x0, x19
	mov	x1, x20
	mov	x2, x21
	mov	x3, x22
	bl	rmm_cold_boot			/* Swift: returns the boot status */
	mov	x23, x0
	cbnz	x23, 5f
	/* Publish "cold boot done" for warm boots, which read it with the MMU off. */
	adr_l	x9, rmm_cold_boot_done
	mov	x10, #1
	str	x10, [x9]
	dc	cvac, x9
	dsb	sy
5:	mov	x1, x23
	b	report_boot_status

warm_boot:
	bl	rmm_mmu_enable
	mov	x0, x19
	mov	x1, x20
	mov	x2, x21
	mov	x3, x22
	bl	rmm_warm_boot			/* Swift: returns the boot status */
	mov	x1, x0

report_boot_status:
	ldr	x0, =RMM_BOOT_COMPLETE
	smc	#0
	/* Resumed by EL3 with the first RMI call in x0-x7. */

	/* The RMI loop. The frame for the call's registers stays on the stack for the
	 * whole loop: x0-x7 go in, the Swift side rewrites slots 0-4 with the results. */
rmm_rmi_start:
	sub	sp, sp, #64
	.global	rmm_rmi_loop
rmm_rmi_loop:
	stp	x0, x1, [sp, #0]
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	mov	x0, sp
	bl	rmm_handle_rmi			/* Swift: rewrites slots 0-4 with the results */
	ldp	x1, x2, [sp, #0]
	ldp	x3, x4, [sp, #16]
	ldr	x5, [sp, #32]
	ldr	x0, =RMM_RMI_REQ_COMPLETE
	smc	#0
	b	rmm_rmi_loop

/*
 * Called by the vector code after an unexpected exception has been reported:
 * abandons whatever this CPU was doing and returns to EL3. x0 = what to report
 * (a boot status, or an RMI result for the host). x1 = 1 if the CPU was serving
 * RMI calls, 0 if it was booting.
 */
	.global	rmm_abandon_to_el3
rmm_abandon_to_el3:
	msr	spsel, #1			/* back from the exception stack */
	mrs	x9, tpidr_el2
	adr_l	x10, __stacks_start
	add	x9, x9, #1
	lsl	x9, x9, #RMM_STACK_SHIFT
	add	x9, x10, x9
	msr	sp_el0, x9			/* a fresh exception stack */
	sub	sp, x9, #RMM_EXCEPTION_STACK_SIZE
	cbz	x1, 6f
	mov	x1, x0
	mov	x2, xzr
	mov	x3, xzr
	mov	x4, xzr
	mov	x5, xzr
	ldr	x0, =RMM_RMI_REQ_COMPLETE
	smc	#0
	b	rmm_rmi_start
6:	mov	x1, x0
	b	report_boot_status

	.section .data
	.balign	64				/* own cache line: cleaned to PoC on publish */
	.global	rmm_cold_boot_done
rmm_cold_boot_done:
	.quad	0
	.balign	64
