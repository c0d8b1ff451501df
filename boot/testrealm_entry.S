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
	mrs	x9, elr_el1
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
	.balign	4096
realm_stacks:
	.space	2 * REALM_STACK_SIZE
