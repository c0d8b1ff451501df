/*
 * The world switch between the RMM (R-EL2) and a REC (R-EL1).
 *
 * uint64_t rmm_run_realm(uint64_t context)
 *   `context` is the REC's context block (RECContextLayout) in the REC granule,
 *   mapped by the caller for the whole run. The RMM's callee-saved registers go on
 *   its stack, its SP into the block; SP_EL2 then points at the block itself, so
 *   that the lower-EL vectors can save the realm's registers before touching
 *   anything else. Returns the vector that ended the run: 8 synchronous, 9 IRQ,
 *   10 FIQ, 11 SError (from a lower EL, AArch64).
 *
 * void rmm_el1_save(uint64_t *regs) / rmm_el1_restore(const uint64_t *regs)
 *   A world's EL1 system registers (the REC's, or the host's while a REC runs), in
 *   RECSystemRegisters order.
 */
#include "rmm_layout.h"

#define CTX_ELR		0x0F8
#define CTX_SPSR	0x100
#define CTX_SP_EL0	0x108
#define CTX_RMM_SP	0x110

	.section .text.rec_switch, "ax"
	.global	rmm_run_realm
rmm_run_realm:
	sub	sp, sp, #96
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	mov	x1, sp
	str	x1, [x0, #CTX_RMM_SP]
	ldr	x1, [x0, #CTX_ELR]
	msr	elr_el2, x1
	ldr	x1, [x0, #CTX_SPSR]
	msr	spsr_el2, x1
	ldr	x1, [x0, #CTX_SP_EL0]
	msr	sp_el0, x1			/* the realm's SP_EL0 (our exception stack is restored on exit) */
	mov	sp, x0
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x19, [sp, #144]
	ldp	x20, x21, [sp, #160]
	ldp	x22, x23, [sp, #176]
	ldp	x24, x25, [sp, #192]
	ldp	x26, x27, [sp, #208]
	ldp	x28, x29, [sp, #224]
	ldr	x30, [sp, #240]
	ldp	x0, x1, [sp, #0]
	eret
	dsb	nsh				/* no speculation past the ERET */
	isb

/* Entered from the lower-EL vectors with x0/x1 saved at [sp] and x0 = vector index. */
	.global	rmm_realm_exit
rmm_realm_exit:
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
	str	x30, [sp, #240]
	mrs	x1, elr_el2
	str	x1, [sp, #CTX_ELR]
	mrs	x1, spsr_el2
	str	x1, [sp, #CTX_SPSR]
	mrs	x1, sp_el0
	str	x1, [sp, #CTX_SP_EL0]
	/* Our exception stack back into SP_EL0. */
	mrs	x1, tpidr_el2
	adrp	x2, __stacks_start
	add	x2, x2, :lo12:__stacks_start
	add	x1, x1, #1
	lsl	x1, x1, #RMM_STACK_SHIFT
	add	x1, x2, x1
	msr	sp_el0, x1
	ldr	x1, [sp, #CTX_RMM_SP]
	mov	sp, x1
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	add	sp, sp, #96
	ret

	.macro	el1_regs op
	\op	sctlr_el1, 0
	\op	tcr_el1, 1
	\op	ttbr0_el1, 2
	\op	ttbr1_el1, 3
	\op	mair_el1, 4
	\op	amair_el1, 5
	\op	vbar_el1, 6
	\op	contextidr_el1, 7
	\op	tpidr_el1, 8
	\op	tpidr_el0, 9
	\op	tpidrro_el0, 10
	\op	sp_el1, 11
	\op	elr_el1, 12
	\op	spsr_el1, 13
	\op	esr_el1, 14
	\op	far_el1, 15
	\op	afsr0_el1, 16
	\op	afsr1_el1, 17
	\op	par_el1, 18
	\op	cpacr_el1, 19
	\op	cntkctl_el1, 20
	\op	csselr_el1, 21
	\op	mdscr_el1, 22
	\op	vmpidr_el2, 23
	.endm
	.macro	save_one reg, slot
	mrs	x1, \reg
	str	x1, [x0, #(\slot * 8)]
	.endm
	.macro	restore_one reg, slot
	ldr	x1, [x0, #(\slot * 8)]
	msr	\reg, x1
	.endm

	/* Pointer authentication keys (FEAT_PAuth), slots 24-33: APIA, APIB, APDA, APDB
	 * (Lo, Hi each), APGA. By encoding, so that any assembler takes them. */
	.macro	pauth_keys op
	\op	S3_0_C2_C1_0, 24
	\op	S3_0_C2_C1_1, 25
	\op	S3_0_C2_C1_2, 26
	\op	S3_0_C2_C1_3, 27
	\op	S3_0_C2_C2_0, 28
	\op	S3_0_C2_C2_1, 29
	\op	S3_0_C2_C2_2, 30
	\op	S3_0_C2_C2_3, 31
	\op	S3_0_C2_C3_0, 32
	\op	S3_0_C2_C3_1, 33
	.endm

	/* x2 = nonzero if the CPU has pointer authentication: ID_AA64ISAR1_EL1 APA, API,
	 * GPA, GPI or ID_AA64ISAR2_EL1 GPA3, APA3. */
	.macro	has_pauth
	mrs	x2, id_aa64isar1_el1
	mov	x3, #0xFF0
	movk	x3, #0xFF00, lsl #16
	and	x2, x2, x3
	mrs	x3, S3_0_C0_C6_2		/* ID_AA64ISAR2_EL1 */
	and	x3, x3, #0xFF00
	orr	x2, x2, x3
	.endm

	/* The EL1/EL0 state of one world: the REC's (into its granule) or the host's (into
	 * the per-CPU area): EL3 switches only EL2 registers between worlds, so the RMM
	 * keeps each world's EL1 state apart. Clobbers x1-x3. */
	.global	rmm_el1_save
rmm_el1_save:
	el1_regs save_one
	has_pauth
	cbz	x2, 1f
	pauth_keys save_one
1:	ret

	.global	rmm_el1_restore
rmm_el1_restore:
	el1_regs restore_one
	has_pauth
	cbz	x2, 1f
	pauth_keys restore_one
1:	isb
	ret
