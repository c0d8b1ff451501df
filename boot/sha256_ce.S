/*
 * SHA-256 block function with the Armv8 Cryptographic Extension (FEAT_SHA256).
 * The only code in the RMM that touches FP/SIMD registers: it enables them for
 * its own duration (CPTR_EL2.TFP) and saves and restores every vector register it
 * uses, because EL3 does not preserve the Normal world's or a realm's SIMD state
 * across the switch into the RMM.
 *
 * void rmm_sha256_blocks_ce(uint32_t state[8], const void *data, size_t blocks)
 */
	.arch	armv8-a+crypto+sve

#include "sve_save_used.inc"
	.section .text.sha256_ce, "ax"
	.global	rmm_sha256_blocks_ce
rmm_sha256_blocks_ce:
	cbz	x2, 3f
	mrs	x9, cptr_el2
	bic	x10, x9, #(1 << 10)		/* TFP = 0: FP/SIMD allowed */
	msr	cptr_el2, x10
	isb
	sve_save_used 12, 0,1,2,3,4,5,6,7,16,17,18,19
	sub	sp, sp, #192
	stp	q0, q1, [sp, #0]
	stp	q2, q3, [sp, #32]
	stp	q4, q5, [sp, #64]
	stp	q6, q7, [sp, #96]
	stp	q16, q17, [sp, #128]
	stp	q18, q19, [sp, #160]

	ld1	{v4.4s, v5.4s}, [x0]		/* v4 = a b c d, v5 = e f g h */
1:	ld1	{v0.16b-v3.16b}, [x1], #64
	rev32	v0.16b, v0.16b
	rev32	v1.16b, v1.16b
	rev32	v2.16b, v2.16b
	rev32	v3.16b, v3.16b
	mov	v6.16b, v4.16b
	mov	v7.16b, v5.16b
	adrp	x3, sha256_k
	add	x3, x3, :lo12:sha256_k

	/* Four rounds with W in \w; when \s is 1, also W[i+16..i+19] into \w. */
	.macro	quad w, w1, w2, w3, s
	ld1	{v16.4s}, [x3], #16
	add	v16.4s, v16.4s, \w\().4s
	mov	v17.16b, v4.16b
	sha256h	q4, q5, v16.4s
	sha256h2 q5, q17, v16.4s
	.if \s
	sha256su0 \w\().4s, \w1\().4s
	sha256su1 \w\().4s, \w2\().4s, \w3\().4s
	.endif
	.endm

	.rept	3
	quad	v0, v1, v2, v3, 1
	quad	v1, v2, v3, v0, 1
	quad	v2, v3, v0, v1, 1
	quad	v3, v0, v1, v2, 1
	.endr
	quad	v0, v1, v2, v3, 0
	quad	v1, v2, v3, v0, 0
	quad	v2, v3, v0, v1, 0
	quad	v3, v0, v1, v2, 0

	add	v4.4s, v4.4s, v6.4s
	add	v5.4s, v5.4s, v7.4s
	subs	x2, x2, #1
	b.ne	1b
	st1	{v4.4s, v5.4s}, [x0]

	/* Nothing of the hash may stay in a vector register. */
	movi	v16.16b, #0
	movi	v17.16b, #0
	ldp	q0, q1, [sp, #0]
	ldp	q2, q3, [sp, #32]
	ldp	q4, q5, [sp, #64]
	ldp	q6, q7, [sp, #96]
	ldp	q16, q17, [sp, #128]
	ldp	q18, q19, [sp, #160]
	add	sp, sp, #192
	sve_restore_used 12, 0,1,2,3,4,5,6,7,16,17,18,19
	msr	cptr_el2, x9
	isb
3:	ret

	.section .rodata.sha256_k, "a"
	.balign	16
sha256_k:	/* FIPS 180-4 section 4.2.2 */
	.word	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5
	.word	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174
	.word	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da
	.word	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967
	.word	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85
	.word	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070
	.word	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3
	.word	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
