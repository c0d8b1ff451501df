/*
 * FP/SIMD state switch between the Normal world and a REC. EL3 does not preserve the
 * other worlds' FP/SIMD registers across the switch into the Realm world, so the RMM
 * saves the host's registers before a REC runs and restores them before returning to
 * the host; the REC's registers live in its first auxiliary granule. These two routines
 * are, with rmm_sha256_blocks_ce, the only RMM code that touches FP/SIMD registers.
 *
 * Layout of a save area (528 bytes): q0..q31, then FPCR, FPSR.
 *
 * void rmm_fp_enter_realm(uint64_t *ns_area, const uint64_t *rec_area)
 *   Allows FP/SIMD (CPTR_EL2.TFP = 0), saves the host's registers, loads the REC's.
 *   SVE stays trapped (CPTR_EL2.TZ): realms are offered no SVE.
 * void rmm_fp_leave_realm(uint64_t *rec_area, const uint64_t *ns_area)
 *   Saves the REC's registers, restores the host's, traps FP/SIMD again.
 */
	.arch	armv8-a+fp+simd
	.section .text.fp_switch, "ax"

	.macro	save_fp base
	stp	q0, q1, [\base, #0]
	stp	q2, q3, [\base, #32]
	stp	q4, q5, [\base, #64]
	stp	q6, q7, [\base, #96]
	stp	q8, q9, [\base, #128]
	stp	q10, q11, [\base, #160]
	stp	q12, q13, [\base, #192]
	stp	q14, q15, [\base, #224]
	stp	q16, q17, [\base, #256]
	stp	q18, q19, [\base, #288]
	stp	q20, q21, [\base, #320]
	stp	q22, q23, [\base, #352]
	stp	q24, q25, [\base, #384]
	stp	q26, q27, [\base, #416]
	stp	q28, q29, [\base, #448]
	stp	q30, q31, [\base, #480]
	mrs	x9, fpcr
	mrs	x10, fpsr
	add	x11, \base, #512
	stp	x9, x10, [x11]
	.endm

	.macro	load_fp base
	ldp	q0, q1, [\base, #0]
	ldp	q2, q3, [\base, #32]
	ldp	q4, q5, [\base, #64]
	ldp	q6, q7, [\base, #96]
	ldp	q8, q9, [\base, #128]
	ldp	q10, q11, [\base, #160]
	ldp	q12, q13, [\base, #192]
	ldp	q14, q15, [\base, #224]
	ldp	q16, q17, [\base, #256]
	ldp	q18, q19, [\base, #288]
	ldp	q20, q21, [\base, #320]
	ldp	q22, q23, [\base, #352]
	ldp	q24, q25, [\base, #384]
	ldp	q26, q27, [\base, #416]
	ldp	q28, q29, [\base, #448]
	ldp	q30, q31, [\base, #480]
	add	x11, \base, #512
	ldp	x9, x10, [x11]
	msr	fpcr, x9
	msr	fpsr, x10
	.endm

	.global	rmm_fp_enter_realm
rmm_fp_enter_realm:
	mrs	x9, cptr_el2
	bic	x9, x9, #(1 << 10)		/* TFP = 0 */
	msr	cptr_el2, x9
	isb
	save_fp	x0
	load_fp	x1
	ret

	.global	rmm_fp_leave_realm
rmm_fp_leave_realm:
	save_fp	x0
	load_fp	x1
	mrs	x9, cptr_el2
	orr	x9, x9, #(1 << 10)		/* TFP = 1: FP/SIMD traps in the RMM again */
	msr	cptr_el2, x9
	isb
	ret
