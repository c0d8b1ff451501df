/*
 * R-EL2 exception vectors. The RMM itself never expects an exception except one:
 * an access to NS memory inside rmm_ns_copy (boot/memory.S) may take a
 * granule-protection fault or an external abort; that is an expected event, and
 * the copy fails cleanly. Everything else is reported by Swift (rmm_report_crash)
 * with the saved registers, and the CPU abandons the call (rmm_abandon_to_el3):
 * nothing hangs silently.
 */
#define FRAME_SIZE	272		/* x0-x30, ELR, SPSR, ESR, FAR */

	.macro	ventry index
	.balign	0x80
	msr	spsel, #0			/* the exception stack: the fault may be a stack overflow */
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp, #0]
	mov	x1, #\index
	b	rmm_exception_common
	.endm

	.section .text.vectors, "ax"
	.balign	0x800
	.global	rmm_vectors
rmm_vectors:
	ventry 0	/* current EL, SP_EL0: sync */
	ventry 1
	ventry 2
	ventry 3
	.balign	0x80	/* current EL, SP_ELx: sync (index 4) */
	msr	spsel, #0			/* the exception stack: the fault may be a stack overflow */
	stp	x9, x10, [sp, #-16]!
	mrs	x9, esr_el2
	lsr	x9, x9, #26
	cmp	x9, #0x25			/* data abort taken without a change in EL */
	b.ne	1f
	mrs	x9, elr_el2
	adrp	x10, rmm_ns_access_start
	add	x10, x10, :lo12:rmm_ns_access_start
	cmp	x9, x10
	b.lo	1f
	adrp	x10, rmm_ns_access_end
	add	x10, x10, :lo12:rmm_ns_access_end
	cmp	x9, x10
	b.hs	1f
	adrp	x10, rmm_ns_access_fault
	add	x10, x10, :lo12:rmm_ns_access_fault
	msr	elr_el2, x10
	ldp	x9, x10, [sp], #16
	eret					/* SPSR restores SPSel = 1 */
1:	ldp	x9, x10, [sp], #16
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp, #0]
	mov	x1, #4
	b	rmm_exception_common
	ventry 5
	ventry 6
	ventry 7
	/* Lower EL, AArch64: a REC exits. SP_EL2 points at its context block. */
	.macro	rec_exit index
	.balign	0x80
	stp	x0, x1, [sp, #0]
	mov	x0, #\index
	b	rmm_realm_exit
	.endm
	rec_exit 8
	rec_exit 9
	rec_exit 10
	rec_exit 11
	ventry 12
	ventry 13
	ventry 14
	ventry 15

rmm_exception_common:
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
	mrs	x2, elr_el2
	stp	x30, x2, [sp, #240]
	mrs	x2, spsr_el2
	mrs	x3, esr_el2
	stp	x2, x3, [sp, #256]
	mov	x0, sp				/* frame */
	bl	rmm_report_crash		/* Swift: returns x0 = status, x1 = serving RMI */
	b	rmm_abandon_to_el3
