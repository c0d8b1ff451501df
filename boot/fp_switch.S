/*
 * FP/SIMD state switch between the Normal world and a REC. EL3 does not preserve the
 * other worlds' FP/SIMD or SVE registers across the switch into the Realm world, so
 * the RMM saves the host's registers before a REC runs and restores them before
 * returning to the host; the REC's FP/SIMD registers live in its REC granule
 * (RECLayout.fpState), an SVE realm's Z/P/FFR registers in its SVE aux granules.
 * These routines are, with the SHA-2 block functions, the only RMM code that
 * touches FP/SIMD/SVE registers.
 *
 * Layout of a save area (528 bytes): q0..q31, then FPCR, FPSR.
 *
 * On a CPU with SVE the host's state is more than its Q registers: the Z registers
 * beyond 128 bits, P0-P15 and FFR, at the vector length the host set in ZCR_EL2
 * (which EL3 does not switch, so it is in force here too). Entering the realm would
 * destroy them: a write to a V register zeroes the rest of its Z register, and a
 * smaller vector length at R-EL1 narrows every Z and P register. So the whole SVE
 * state is saved at the host's vector length into the per-CPU SVE area
 * (rmm_ns_sve_area: Z0-31 at 32 VL, then P0-15 and FFR at VL/8 each; 8,736 bytes at
 * the largest VL, 2048 bits), and loaded back on the way out.
 *
 * void rmm_fp_enter_realm(uint64_t *ns_area, const uint64_t *rec_area, uint64_t *ns_sve)
 *   Allows FP/SIMD (CPTR_EL2.TFP = 0), saves the host's registers, loads the REC's.
 *   SVE stays trapped for the realm (CPTR_EL2.TZ): this pair is for realms without SVE.
 * void rmm_fp_leave_realm(uint64_t *rec_area, const uint64_t *ns_area, const uint64_t *ns_sve)
 *   Saves the REC's registers, restores the host's, traps FP/SIMD again.
 */
	.arch	armv8-a+fp+simd+sve
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

#include "sve_state.inc"

	.global	rmm_fp_enter_realm
rmm_fp_enter_realm:
	mrs	x9, cptr_el2
	bic	x9, x9, #(1 << 10)		/* TFP = 0 */
	mrs	x13, id_aa64pfr0_el1
	ubfx	x13, x13, #32, #4		/* SVE */
	cbz	x13, 1f
	bic	x10, x9, #(1 << 8)		/* TZ = 0 for the save only */
	msr	cptr_el2, x10
	isb
	save_sve x2, x12
1:	msr	cptr_el2, x9
	isb
	save_fp	x0
	load_fp	x1
	ret

	.global	rmm_fp_leave_realm
rmm_fp_leave_realm:
	save_fp	x0
	load_fp	x1
	mrs	x13, id_aa64pfr0_el1
	ubfx	x13, x13, #32, #4
	cbz	x13, 1f
	mrs	x9, cptr_el2
	bic	x10, x9, #(1 << 8)		/* TZ = 0 for the load only */
	msr	cptr_el2, x10
	isb
	load_sve x2, x12
1:	mrs	x9, cptr_el2
	orr	x9, x9, #(1 << 10)		/* TFP = 1: FP/SIMD traps in the RMM again */
	orr	x9, x9, #(1 << 8)		/* TZ = 1 */
	msr	cptr_el2, x9
	isb
	ret

/*
 * Realms with SVE. The REC's Z0-Z31, P0-P15 and FFR live in its SVE aux granules
 * (mapped by the gate for these calls only, purpose recSVEState), at the realm's
 * vector length; its FPCR, FPSR and ZCR_EL1 in its FP area in the REC granule (the
 * Q registers are the low 128 bits of the Z registers). The host's ZCR_EL2 and
 * ZCR_EL1 are kept beside its FPCR/FPSR (ns_area + 528, + 536).
 *
 * void rmm_sve_enter_realm(uint64_t *ns_area, const uint64_t *rec_area, uint64_t *ns_sve,
 *                          const void *rec_sve, uint64_t realm_zcr)
 *   Allows FP/SIMD and SVE (CPTR_EL2.TFP = TZ = 0, kept while the realm runs), saves the
 *   host's SVE state at its vector length, sets ZCR_EL2 to the realm's, loads the REC's.
 * void rmm_sve_leave_realm(uint64_t *rec_area, const uint64_t *ns_area, const uint64_t *ns_sve,
 *                          void *rec_sve)
 *   Saves the REC's state at the realm's vector length, restores the host's ZCR_EL2,
 *   ZCR_EL1 and SVE state, traps FP/SIMD and SVE again.
 */
	.global	rmm_sve_enter_realm
rmm_sve_enter_realm:
	mrs	x9, cptr_el2
	bic	x9, x9, #(1 << 10)		/* TFP = 0 */
	bic	x9, x9, #(1 << 8)		/* TZ = 0 */
	msr	cptr_el2, x9
	isb
	save_sve x2, x12
	mrs	x9, fpcr
	mrs	x10, fpsr
	add	x11, x0, #512
	stp	x9, x10, [x11]
	mrs	x9, zcr_el2
	mrs	x10, zcr_el1
	stp	x9, x10, [x11, #16]
	msr	zcr_el2, x4
	isb					/* the realm's vector length from here */
	load_sve x3, x12
	add	x11, x1, #512
	ldp	x9, x10, [x11]
	msr	fpcr, x9
	msr	fpsr, x10
	ldr	x9, [x11, #16]
	msr	zcr_el1, x9
	ret

	.global	rmm_sve_leave_realm
rmm_sve_leave_realm:
	save_sve x3, x12
	mrs	x9, fpcr
	mrs	x10, fpsr
	add	x11, x0, #512
	stp	x9, x10, [x11]
	mrs	x9, zcr_el1
	str	x9, [x11, #16]
	add	x11, x1, #512
	ldp	x9, x10, [x11, #16]
	msr	zcr_el2, x9
	msr	zcr_el1, x10
	isb					/* the host's vector length from here */
	load_sve x2, x12
	ldp	x9, x10, [x11]
	msr	fpcr, x9
	msr	fpsr, x10
	mrs	x9, cptr_el2
	orr	x9, x9, #(1 << 10)		/* TFP = 1 */
	orr	x9, x9, #(1 << 8)		/* TZ = 1 */
	msr	cptr_el2, x9
	isb
	ret

/* uint64_t rmm_sve_max_vector_bytes(void): ZCR_EL2.LEN = 15 selects the largest vector
 * length the CPU (and EL3's ZCR_EL3) allows; RDVL reads it. ZCR_EL2 is put back. */
	.global	rmm_sve_max_vector_bytes
rmm_sve_max_vector_bytes:
	mrs	x9, id_aa64pfr0_el1
	ubfx	x9, x9, #32, #4
	cbz	x9, 1f
	mrs	x10, cptr_el2
	bic	x11, x10, #(1 << 8)		/* TZ = 0 */
	bic	x11, x11, #(1 << 10)		/* TFP = 0: it traps SVE instructions too */
	msr	cptr_el2, x11
	isb
	mrs	x12, zcr_el2
	mov	x13, #15
	msr	zcr_el2, x13
	isb
	rdvl	x0, #1
	msr	zcr_el2, x12
	msr	cptr_el2, x10
	isb
	ret
1:	mov	x0, #0
	ret
