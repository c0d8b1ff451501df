/* NS test payload: FP/SIMD registers, to check the RMM gives them back intact. */
	.arch	armv8-a+fp+simd
	.section .text.testhost_fp, "ax"
	.global	testhost_fp_set			/* void testhost_fp_set(uint64_t v): v0.d[0] = v, v17.d[1] = v */
testhost_fp_set:
	mrs	x9, cptr_el2
	bic	x9, x9, #(1 << 10)		/* our own CPTR_EL2: FP/SIMD allowed */
	msr	cptr_el2, x9
	isb
	fmov	d0, x0
	mov	v17.d[1], x0
	ret
	.global	testhost_fp_get			/* uint64_t testhost_fp_get(void): v0.d[0] if v17.d[1] agrees, else 0 */
testhost_fp_get:
	fmov	x0, d0
	mov	x1, v17.d[1]
	cmp	x0, x1
	csel	x0, x0, xzr, eq
	ret

/* SVE state of the host, to check the RMM preserves all of it (Z0-Z31 beyond their
 * Q part, P0-P15, FFR) whatever the vector length. Buffers: Z0-31 at 32 VL, then
 * P0-15 and FFR at VL/8 each.
 * uint64_t testhost_fp_sve_setup(uint64_t len): SVE allowed at NS-EL2, ZCR_EL2.LEN =
 *   len; returns the vector length in bytes (0 without SVE).
 * void testhost_fp_sve_load(const void *buffer) / testhost_fp_sve_store(void *buffer) */
	.arch	armv8-a+fp+simd+sve
#include "sve_state.inc"
	.global	testhost_fp_sve_setup
testhost_fp_sve_setup:
	mrs	x9, id_aa64pfr0_el1
	ubfx	x9, x9, #32, #4
	cbz	x9, 1f
	mrs	x9, cptr_el2
	bic	x9, x9, #(1 << 10)		/* TFP = 0 */
	bic	x9, x9, #(1 << 8)		/* TZ = 0 */
	msr	cptr_el2, x9
	isb
	msr	S3_4_C1_C2_0, x0		/* ZCR_EL2 */
	isb
	rdvl	x0, #1
	ret
1:	mov	x0, #0
	ret

	.global	testhost_fp_sve_zcr		/* uint64_t testhost_fp_sve_zcr(void): ZCR_EL2 (SVE allowed) */
testhost_fp_sve_zcr:
	mrs	x0, S3_4_C1_C2_0
	ret

	.global	testhost_fp_sve_load
testhost_fp_sve_load:
	load_sve x0, x1
	ret

	.global	testhost_fp_sve_store
testhost_fp_sve_store:
	save_sve x0, x1
	ldr	p0, [x1, #0, mul vl]		/* P0 back: RDFFR borrowed it */
	ret
