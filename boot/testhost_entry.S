/*
 * NS-EL2 test payload (BL33): entry, secondary-CPU entry, vectors. TF-A enters
 * _start at NS-EL2h with the MMU off and DAIF masked. The payload keeps the MMU
 * off: every access is Device memory, hence -mstrict-align everywhere.
 */
#define TESTHOST_STACK_SIZE	0x4000
#define PSCI_SYSTEM_OFF		0x84000008
#define PSCI_CPU_OFF		0x84000002

.macro adr_l reg, sym
	adrp	\reg, \sym
	add	\reg, \reg, :lo12:\sym
.endm

	.section .text.entry, "ax"
	.global	_start
_start:
	adr_l	x9, __bss_start
	adr_l	x10, __bss_end
1:	cmp	x9, x10
	b.hs	2f
	stp	xzr, xzr, [x9], #16
	b	1b
2:	adr_l	x9, testhost_stacks
	add	sp, x9, #TESTHOST_STACK_SIZE
	adr_l	x9, testhost_vectors
	msr	vbar_el2, x9
	isb
	bl	testhost_main
	ldr	x0, =PSCI_SYSTEM_OFF
	smc	#0
	b	.

/* PSCI CPU_ON target; x0 = context id = CPU index (1..7). */
	.global	testhost_secondary_entry
testhost_secondary_entry:
	and	x0, x0, #7
	adr_l	x9, testhost_stacks
	add	x10, x0, #1
	mov	x11, #TESTHOST_STACK_SIZE
	mul	x10, x10, x11
	add	sp, x9, x10
	adr_l	x9, testhost_vectors
	msr	vbar_el2, x9
	isb
	bl	testhost_secondary
	ldr	x0, =PSCI_CPU_OFF
	smc	#0
	b	.

/* probe_result_t testhost_probe_read(uint64_t pa) */
	.global	testhost_probe_read
testhost_probe_read:
	.global	testhost_probe_start
testhost_probe_start:
	ldr	x0, [x0]
	.global	testhost_probe_end
testhost_probe_end:
	mov	x1, #0
	ret
testhost_probe_fault:
	mrs	x1, esr_el2
	mov	x0, #0
	ret

	.macro	ventry index
	.balign	0x80
	mov	x0, #\index
	b	testhost_unexpected
	.endm

	.balign	0x800
testhost_vectors:
	ventry 0
	ventry 1
	ventry 2
	ventry 3
	.balign	0x80		/* current EL, SP_ELx, sync: the probe may fault */
	stp	x9, x10, [sp, #-16]!
	mrs	x9, elr_el2
	adr_l	x10, testhost_probe_start
	cmp	x9, x10
	b.ne	1f
	adr_l	x10, testhost_probe_fault
	msr	elr_el2, x10
	ldp	x9, x10, [sp], #16
	eret
1:	ldp	x9, x10, [sp], #16
	mov	x0, #4
	b	testhost_unexpected
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

/* The host's own EL1/EL0 state, which a REC_ENTER must leave as it was (SMCCC):
 * void testhost_el1_set(uint64_t v) writes a pattern derived from v into TPIDR_EL0,
 * TPIDRRO_EL0, TPIDR_EL1, MAIR_EL1, CONTEXTIDR_EL1, VBAR_EL1, CNTV_CVAL_EL0 and, with
 * pointer authentication, APIAKeyLo_EL1 and APGAKeyHi_EL1;
 * uint64_t testhost_el1_mismatches(uint64_t v) returns a bit per register that
 * no longer holds its pattern (0: all intact). */
	.global	testhost_el1_set
testhost_el1_set:
	msr	tpidr_el0, x0
	eor	x1, x0, #1
	msr	tpidrro_el0, x1
	eor	x1, x0, #2
	msr	tpidr_el1, x1
	eor	x1, x0, #3
	msr	mair_el1, x1
	and	x1, x0, #0xFFFFFFFF
	msr	contextidr_el1, x1
	and	x1, x0, #0xFFFFFFFFFFFFF800
	msr	vbar_el1, x1
	lsr	x1, x0, #4
	msr	cntv_cval_el0, x1
	mrs	x2, id_aa64isar1_el1
	and	x2, x2, #0xFF0			/* APA, API */
	mrs	x4, S3_0_C0_C6_2		/* ID_AA64ISAR2_EL1: APA3 */
	and	x4, x4, #0xF000
	orr	x2, x2, x4
	cbz	x2, 1f
	eor	x1, x0, #4
	msr	S3_0_C2_C1_0, x1		/* APIAKeyLo_EL1 */
	eor	x1, x0, #0x30
	msr	S3_0_C2_C3_1, x1		/* APGAKeyHi_EL1 */
1:	isb
	ret

	.macro	el1_check reg, pattern, bit
	mrs	x1, \reg
	cmp	x1, \pattern
	b.eq	9f
	orr	x3, x3, #(1 << \bit)
9:
	.endm
	.global	testhost_el1_mismatches
testhost_el1_mismatches:
	mov	x3, #0
	el1_check tpidr_el0, x0, 0
	eor	x2, x0, #1
	el1_check tpidrro_el0, x2, 1
	eor	x2, x0, #2
	el1_check tpidr_el1, x2, 2
	eor	x2, x0, #3
	el1_check mair_el1, x2, 3
	and	x2, x0, #0xFFFFFFFF
	el1_check contextidr_el1, x2, 4
	and	x2, x0, #0xFFFFFFFFFFFFF800
	el1_check vbar_el1, x2, 5
	lsr	x2, x0, #4
	el1_check cntv_cval_el0, x2, 6
	mrs	x4, id_aa64isar1_el1
	and	x4, x4, #0xFF0
	mrs	x5, S3_0_C0_C6_2
	and	x5, x5, #0xF000
	orr	x4, x4, x5
	cbz	x4, 1f
	eor	x2, x0, #4
	el1_check S3_0_C2_C1_0, x2, 7
	eor	x2, x0, #0x30
	el1_check S3_0_C2_C3_1, x2, 8
1:	mov	x0, x3
	ret

testhost_unexpected:
	mrs	x1, esr_el2
	mrs	x2, elr_el2
	mrs	x3, far_el2
	bl	testhost_exception	/* Swift: reports and powers off */
	b	.

	.section .bss
	.balign	16
	.global	testhost_stacks
testhost_stacks:
	.space	8 * TESTHOST_STACK_SIZE

/* uint64_t testhost_semihosting(uint64_t operation, uint64_t parameters): an Arm
 * semihosting call (HLT #0xF000), answered by QEMU when it runs with
 * -semihosting-config enable=on,target=native. Only the Linux realm's audit stream uses
 * it, and only when the run configuration says QEMU was started so (else HLT is an
 * Undefined exception). */
	.text
	.global	testhost_semihosting
testhost_semihosting:
	hlt	#0xf000
	ret
