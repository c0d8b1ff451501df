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
