/*
 * Realm test payload (R-EL1): entry for REC 0 and for RECs started with PSCI CPU_ON,
 * and EL1 vectors that let the tests observe exceptions the RMM injects (SEA,
 * Undefined) instead of dying on them. MMU off; stage 2 makes memory Normal (FWB).
 */
#define REALM_STACK_SIZE	0x2000

	.section .text.entry, "ax"
	.global	_start
_start:					/* REC 0: x0..x7 from RmiRecParams */
	adrp	x9, realm_stacks
	add	x9, x9, :lo12:realm_stacks
	add	sp, x9, #REALM_STACK_SIZE
	adrp	x9, realm_vectors
	add	x9, x9, :lo12:realm_vectors
	msr	vbar_el1, x9
	isb
	bl	realm_main
1:	b	1b

	.global	realm_secondary_entry	/* CPU_ON target; x0 = context */
realm_secondary_entry:
	adrp	x9, realm_stacks
	add	x9, x9, :lo12:realm_stacks
	add	sp, x9, #(2 * REALM_STACK_SIZE)
	adrp	x9, realm_vectors
	add	x9, x9, :lo12:realm_vectors
	msr	vbar_el1, x9
	isb
	bl	realm_secondary
1:	b	1b

/* void realm_smc(fid, a1..a7 in x0-x7, a8, a9, a10, out on the stack): SMC into the
 * RMM with x0..x10 set; x0..x8 of the answer go to out[0..8]. */
	.global	realm_smc
realm_smc:
	ldp	x8, x9, [sp, #0]
	ldr	x10, [sp, #16]
	ldr	x11, [sp, #24]
	str	x11, [sp, #-16]!
	smc	#0
	ldr	x11, [sp], #16
	stp	x0, x1, [x11, #0]
	stp	x2, x3, [x11, #16]
	stp	x4, x5, [x11, #32]
	stp	x6, x7, [x11, #48]
	str	x8, [x11, #64]
	ret

	.global	realm_host_call_address
realm_host_call_address:
	adrp	x0, realm_host_call
	add	x0, x0, :lo12:realm_host_call
	ret
	.global	realm_config_address
realm_config_address:
	adrp	x0, realm_config_page
	add	x0, x0, :lo12:realm_config_page
	ret
	.global	realm_secondary_entry_address
realm_secondary_entry_address:
	adr	x0, realm_secondary_entry
	ret

/* uint64_t realm_probe(uint64_t address): a load that reports an exception.
 * Returns ESR_EL1 of the exception, or 0 if the load worked (value in realm_probe_value). */
	.global	realm_probe
realm_probe:
	.global	realm_probe_load
realm_probe_load:
	ldr	x1, [x0]
	adrp	x2, realm_probe_value
	str	x1, [x2, :lo12:realm_probe_value]
	mov	x0, #0
	ret
realm_probe_fault:
	mrs	x0, esr_el1
	ret

/* void realm_wfi(void), realm_wfe(void): only after the host asked for them to trap. */
	.global	realm_wfi
realm_wfi:
	wfi
	ret
	.global	realm_wfe
realm_wfe:
	wfe
	ret

/* uint64_t realm_hvc(void): executes HVC #0; returns ESR_EL1 of what happened (0: none). */
	.global	realm_hvc
realm_hvc:
	mov	x0, #0
	.global	realm_hvc_insn
realm_hvc_insn:
	hvc	#0
	ret

/* Probes of exceptions the RMM must inject. Each arms realm_trap_resume with its
 * recovery label; the synchronous vector below returns there with x0 = ESR_EL1 (and
 * FAR_EL1 in realm_trap_far) if the probed instruction took an exception. */
	.macro	arm_trap label
	adr	x9, \label
	adrp	x10, realm_trap_resume
	str	x9, [x10, :lo12:realm_trap_resume]
	.endm
	.macro	disarm_trap
	adrp	x10, realm_trap_resume
	str	xzr, [x10, :lo12:realm_trap_resume]
	.endm

/* uint64_t realm_try_exec(uint64_t target): an instruction fetch from target (which
 * must fault: there is nothing to return). Returns ESR_EL1 or 0. */
	.global	realm_try_exec
realm_try_exec:
	mov	x11, x30
	arm_trap 1f
	blr	x0
	mov	x0, #0
1:	disarm_trap
	mov	x30, x11
	ret

/* uint64_t realm_try_sve(void) / realm_try_sme(void): RDVL / RDSVL with CPACR_EL1
 * letting EL1 use SVE and SME, so any trap comes from EL2. Returns ESR_EL1 or 0. */
	.global	realm_try_sve
realm_try_sve:
	mrs	x12, cpacr_el1
	orr	x13, x12, #(3 << 16)		/* ZEN */
	orr	x13, x13, #(3 << 20)		/* FPEN */
	msr	cpacr_el1, x13
	isb
	arm_trap 1f
	.inst	0x04bf5020			/* rdvl x0, #1 */
	mov	x0, #0
1:	disarm_trap
	msr	cpacr_el1, x12
	isb
	ret
	.global	realm_try_sme
realm_try_sme:
	mrs	x12, cpacr_el1
	orr	x13, x12, #(3 << 24)		/* SMEN */
	orr	x13, x13, #(3 << 20)		/* FPEN */
	msr	cpacr_el1, x13
	isb
	arm_trap 1f
	.inst	0x04bf5820			/* rdsvl x0, #1 */
	mov	x0, #0
1:	disarm_trap
	msr	cpacr_el1, x12
	isb
	ret

/* uint64_t realm_try_pmcr(void): MRS PMCR_EL0 (no PMU for this realm). ESR_EL1 or 0. */
	.global	realm_try_pmcr
realm_try_pmcr:
	arm_trap 1f
	mrs	x1, S3_3_C9_C12_0
	mov	x0, #0
1:	disarm_trap
	ret

/* uint64_t realm_try_debug(void): writes then reads DBGBVR0_EL1 and MDSCR_EL1. Returns
 * ESR_EL1 of an exception, or the OR of what was read back (0 when RAZ/WI). */
	.global	realm_try_debug
realm_try_debug:
	arm_trap 1f
	mov	x1, #0x1000
	msr	S2_0_C0_C0_4, x1		/* DBGBVR0_EL1 */
	mrs	x0, S2_0_C0_C0_4
	mov	x1, #(1 << 15)			/* MDSCR_EL1.MDE */
	msr	S2_0_C0_C2_2, x1
	mrs	x1, S2_0_C0_C2_2
	orr	x0, x0, x1
1:	disarm_trap
	ret

/* void realm_read_id_registers(uint64_t out[16]): PFR0, PFR1, ZFR0, SMFR0, DFR0, DFR1,
 * AFR0, AFR1, ISAR0, ISAR1, ISAR2, MMFR0, MMFR1, MMFR2, MMFR3, MMFR4. */
	.global	realm_read_id_registers
realm_read_id_registers:
	mrs	x1, S3_0_C0_C4_0
	mrs	x2, S3_0_C0_C4_1
	stp	x1, x2, [x0, #0]
	mrs	x1, S3_0_C0_C4_4
	mrs	x2, S3_0_C0_C4_5
	stp	x1, x2, [x0, #16]
	mrs	x1, S3_0_C0_C5_0
	mrs	x2, S3_0_C0_C5_1
	stp	x1, x2, [x0, #32]
	mrs	x1, S3_0_C0_C5_4
	mrs	x2, S3_0_C0_C5_5
	stp	x1, x2, [x0, #48]
	mrs	x1, S3_0_C0_C6_0
	mrs	x2, S3_0_C0_C6_1
	stp	x1, x2, [x0, #64]
	mrs	x1, S3_0_C0_C6_2
	mrs	x2, S3_0_C0_C7_0
	stp	x1, x2, [x0, #80]
	mrs	x1, S3_0_C0_C7_1
	mrs	x2, S3_0_C0_C7_2
	stp	x1, x2, [x0, #96]
	mrs	x1, S3_0_C0_C7_3
	mrs	x2, S3_0_C0_C7_4
	stp	x1, x2, [x0, #112]
	ret

/* uint64_t realm_pauth_key(void) / void realm_set_pauth_key(uint64_t): APIAKeyLo_EL1. */
	.global	realm_pauth_key
realm_pauth_key:
	mrs	x0, S3_0_C2_C1_0
	ret
	.global	realm_set_pauth_key
realm_set_pauth_key:
	msr	S3_0_C2_C1_0, x0
	isb
	ret

	.global	realm_trap_far_value
realm_trap_far_value:
	adrp	x0, realm_trap_far
	ldr	x0, [x0, :lo12:realm_trap_far]
	ret

	.macro	ventry index
	.balign	0x80
	mov	x0, #\index
	b	realm_unexpected
	.endm

	.balign	0x800
realm_vectors:
	ventry 0
	ventry 1
	ventry 2
	ventry 3
	.balign	0x80			/* current EL, SP_ELx, sync: injected SEA/Undefined */
	adrp	x10, realm_trap_resume
	ldr	x9, [x10, :lo12:realm_trap_resume]
	cbz	x9, 0f
	str	xzr, [x10, :lo12:realm_trap_resume]
	msr	elr_el1, x9
	mrs	x9, far_el1
	adrp	x10, realm_trap_far
	str	x9, [x10, :lo12:realm_trap_far]
	mrs	x0, esr_el1
	eret
0:	mrs	x9, elr_el1
	adrp	x10, realm_probe_load
	add	x10, x10, :lo12:realm_probe_load
	cmp	x9, x10
	b.ne	1f
	adrp	x10, realm_probe_fault
	add	x10, x10, :lo12:realm_probe_fault
	msr	elr_el1, x10
	eret
1:	adrp	x10, realm_hvc_insn
	add	x10, x10, :lo12:realm_hvc_insn
	cmp	x9, x10
	b.ne	2f
	mrs	x0, esr_el1			/* return the ESR from realm_hvc */
	add	x9, x9, #4
	msr	elr_el1, x9
	eret
2:	mov	x0, #4
	b	realm_unexpected
	ventry 5
	ventry 6
	ventry 7
	ventry 8
	ventry 9
	ventry 10
	ventry 11
	ventry 12
	ventry 13
	ventry 14
	ventry 15

realm_unexpected:
	mrs	x1, esr_el1
	mrs	x2, elr_el1
	mrs	x3, far_el1
	bl	realm_exception		/* Swift: reports and powers the realm off */
	b	.

	.section .bss
	.balign	4096
	.global	realm_config_page		/* RSI_REALM_CONFIG target */
realm_config_page:
	.space	4096
	.global	realm_host_call			/* RsiHostCall: 256-byte aligned */
realm_host_call:
	.space	256
	.balign	16
	.global	realm_probe_value
realm_probe_value:
	.quad	0
realm_trap_resume:
	.quad	0
realm_trap_far:
	.quad	0
	.balign	4096
realm_stacks:
	.space	2 * REALM_STACK_SIZE
