/*
 * SHA-512 block function with the Armv8.2 SHA-512 instructions (FEAT_SHA512:
 * SHA512H, SHA512H2, SHA512SU0, SHA512SU1; ID_AA64ISAR0_EL1.SHA2 >= 2). Like
 * rmm_sha256_blocks_ce (boot/sha256_ce.S) it enables FP/SIMD for its own duration
 * (CPTR_EL2.TFP) and saves and restores every vector register it uses, because EL3
 * does not preserve the Normal world's or a realm's SIMD state across the switch
 * into the RMM.
 *
 * void rmm_sha512_blocks_ce(uint64_t state[8], const void *data, size_t blocks)
 *
 * state: H0..H7 as native uint64_t; data: `blocks` 128-byte blocks of message
 * (big-endian words, FIPS 180-4), any alignment; padding is the caller's.
 *
 * Register use (each register holds a pair of 64-bit words, lane 0 first, i.e.
 * in memory order):
 *   v0-v4   the working variables as the pairs [a,b] [c,d] [e,f] [g,h] plus one
 *           free register; the roles rotate through v0-v4 with period 5, so after
 *           the 40 double rounds (80 rounds) they are back in v0-v3 (see dround)
 *   v5      K[i..i+1] + W[i..i+1], then the same swapped; schedule temporary
 *   v6, v7  [f,g] and [d,e] for SHA512H; v6 also a schedule temporary
 *   v16-v23 the message schedule, W[2j..2j+1] in v(16 + j mod 8)
 *
 * Build with SHA512_CE_USERMODE_TEST defined to leave out the CPTR_EL2 accesses
 * (for testing the arithmetic at EL0 under qemu-user only).
 */
	.arch	armv8.2-a+sha3+sve

#include "sve_save_used.inc"
	.section .text.sha512_ce, "ax"

	/*
	 * Two rounds (i, i+1 = 2p, 2p+1). The arguments are register numbers: the
	 * pairs [a,b] [c,d] [e,f] [g,h], the free register x, the schedule registers
	 * holding W pairs p, p+1, p+4, p+5, p+7 (mod 8), and s = 1 if W pair p + 8
	 * is still needed (p < 32). Afterwards the roles are
	 *   [a,b] = v\gh, [c,d] = v\ab, [e,f] = v\x, [g,h] = v\ef, free = v\cd.
	 *
	 * SHA512H  Qd, Qn, Vm: with Vm = [d,e], Vn = [f,g], Vd = [g + KW(i+1), h + KW(i)]
	 *   gives Vd = [T1(i+1), T1(i)] (T1 of FIPS 180-4 section 6.4.2).
	 * e of round i+1 is d + T1(i), of round i+2 is c + T1(i+1): [c,d] + Vd.
	 * SHA512H2 Qd, Qn, Vm: with Vm = [a,b], Vn = [c,-], Vd = [T1(i+1), T1(i)]
	 *   gives Vd = [a(i+2), a(i+1)], the new [a,b].
	 * SHA512SU0 Vd, Vn: Vd = [W(t-16), W(t-15)], Vn = [W(t-14), -]
	 *   gives [W(t-16) + s0(W(t-15)), W(t-15) + s0(W(t-14))].
	 * SHA512SU1 Vd, Vn, Vm: Vn = [W(t-2), W(t-1)], Vm = [W(t-7), W(t-6)]
	 *   adds s1(Vn) + Vm lane by lane, which completes [W(t), W(t+1)].
	 */
	.macro	dround ab, cd, ef, gh, x, w0, w1, w4, w5, w7, s
	ld1	{v5.2d}, [x3], #16
	add	v5.2d, v5.2d, v\w0\().2d		/* [KW(i), KW(i+1)] */
	.if \s
	ext	v6.16b, v\w4\().16b, v\w5\().16b, #8	/* [W(t-7), W(t-6)] */
	sha512su0 v\w0\().2d, v\w1\().2d
	sha512su1 v\w0\().2d, v\w7\().2d, v6.2d	/* W pair p + 8 */
	.endif
	ext	v5.16b, v5.16b, v5.16b, #8		/* [KW(i+1), KW(i)] */
	ext	v6.16b, v\ef\().16b, v\gh\().16b, #8	/* [f, g] */
	ext	v7.16b, v\cd\().16b, v\ef\().16b, #8	/* [d, e] */
	add	v\gh\().2d, v\gh\().2d, v5.2d		/* [g + KW(i+1), h + KW(i)] */
	sha512h	q\gh, q6, v7.2d			/* [T1(i+1), T1(i)] */
	add	v\x\().2d, v\cd\().2d, v\gh\().2d	/* new [e, f] */
	sha512h2 q\gh, q\cd, v\ab\().2d		/* new [a, b] */
	.endm

	.global	rmm_sha512_blocks_ce
	.type	rmm_sha512_blocks_ce, %function
rmm_sha512_blocks_ce:
	cbz	x2, 3f
#ifndef SHA512_CE_USERMODE_TEST
	mrs	x9, cptr_el2
	bic	x10, x9, #(1 << 10)		/* TFP = 0: FP/SIMD allowed */
	msr	cptr_el2, x10
	isb
	sve_save_used 16, 0,1,2,3,4,5,6,7,16,17,18,19,20,21,22,23
#endif
	sub	sp, sp, #256
	stp	q0, q1, [sp, #0]
	stp	q2, q3, [sp, #32]
	stp	q4, q5, [sp, #64]
	stp	q6, q7, [sp, #96]
	stp	q16, q17, [sp, #128]
	stp	q18, q19, [sp, #160]
	stp	q20, q21, [sp, #192]
	stp	q22, q23, [sp, #224]

	ld1	{v0.2d-v3.2d}, [x0]		/* [a,b] [c,d] [e,f] [g,h] */
1:	ld1	{v16.16b-v19.16b}, [x1], #64
	ld1	{v20.16b-v23.16b}, [x1], #64
	rev64	v16.16b, v16.16b
	rev64	v17.16b, v17.16b
	rev64	v18.16b, v18.16b
	rev64	v19.16b, v19.16b
	rev64	v20.16b, v20.16b
	rev64	v21.16b, v21.16b
	rev64	v22.16b, v22.16b
	rev64	v23.16b, v23.16b
	adrp	x3, sha512_k
	add	x3, x3, :lo12:sha512_k

	/*	[a,b] [c,d] [e,f] [g,h] free  W(p) W(p+1) W(p+4) W(p+5) W(p+7) s */
	dround	0, 1, 2, 3, 4, 16, 17, 20, 21, 23, 1
	dround	3, 0, 4, 2, 1, 17, 18, 21, 22, 16, 1
	dround	2, 3, 1, 4, 0, 18, 19, 22, 23, 17, 1
	dround	4, 2, 0, 1, 3, 19, 20, 23, 16, 18, 1
	dround	1, 4, 3, 0, 2, 20, 21, 16, 17, 19, 1
	dround	0, 1, 2, 3, 4, 21, 22, 17, 18, 20, 1
	dround	3, 0, 4, 2, 1, 22, 23, 18, 19, 21, 1
	dround	2, 3, 1, 4, 0, 23, 16, 19, 20, 22, 1
	dround	4, 2, 0, 1, 3, 16, 17, 20, 21, 23, 1
	dround	1, 4, 3, 0, 2, 17, 18, 21, 22, 16, 1
	dround	0, 1, 2, 3, 4, 18, 19, 22, 23, 17, 1
	dround	3, 0, 4, 2, 1, 19, 20, 23, 16, 18, 1
	dround	2, 3, 1, 4, 0, 20, 21, 16, 17, 19, 1
	dround	4, 2, 0, 1, 3, 21, 22, 17, 18, 20, 1
	dround	1, 4, 3, 0, 2, 22, 23, 18, 19, 21, 1
	dround	0, 1, 2, 3, 4, 23, 16, 19, 20, 22, 1
	dround	3, 0, 4, 2, 1, 16, 17, 20, 21, 23, 1
	dround	2, 3, 1, 4, 0, 17, 18, 21, 22, 16, 1
	dround	4, 2, 0, 1, 3, 18, 19, 22, 23, 17, 1
	dround	1, 4, 3, 0, 2, 19, 20, 23, 16, 18, 1
	dround	0, 1, 2, 3, 4, 20, 21, 16, 17, 19, 1
	dround	3, 0, 4, 2, 1, 21, 22, 17, 18, 20, 1
	dround	2, 3, 1, 4, 0, 22, 23, 18, 19, 21, 1
	dround	4, 2, 0, 1, 3, 23, 16, 19, 20, 22, 1
	dround	1, 4, 3, 0, 2, 16, 17, 20, 21, 23, 1
	dround	0, 1, 2, 3, 4, 17, 18, 21, 22, 16, 1
	dround	3, 0, 4, 2, 1, 18, 19, 22, 23, 17, 1
	dround	2, 3, 1, 4, 0, 19, 20, 23, 16, 18, 1
	dround	4, 2, 0, 1, 3, 20, 21, 16, 17, 19, 1
	dround	1, 4, 3, 0, 2, 21, 22, 17, 18, 20, 1
	dround	0, 1, 2, 3, 4, 22, 23, 18, 19, 21, 1
	dround	3, 0, 4, 2, 1, 23, 16, 19, 20, 22, 1
	dround	2, 3, 1, 4, 0, 16, 17, 20, 21, 23, 0
	dround	4, 2, 0, 1, 3, 17, 18, 21, 22, 16, 0
	dround	1, 4, 3, 0, 2, 18, 19, 22, 23, 17, 0
	dround	0, 1, 2, 3, 4, 19, 20, 23, 16, 18, 0
	dround	3, 0, 4, 2, 1, 20, 21, 16, 17, 19, 0
	dround	2, 3, 1, 4, 0, 21, 22, 17, 18, 20, 0
	dround	4, 2, 0, 1, 3, 22, 23, 18, 19, 21, 0
	dround	1, 4, 3, 0, 2, 23, 16, 19, 20, 22, 0

	/* Add the block's input state, which is still in memory (the schedule is free). */
	ld1	{v16.2d-v19.2d}, [x0]
	add	v0.2d, v0.2d, v16.2d
	add	v1.2d, v1.2d, v17.2d
	add	v2.2d, v2.2d, v18.2d
	add	v3.2d, v3.2d, v19.2d
	st1	{v0.2d-v3.2d}, [x0]
	subs	x2, x2, #1
	b.ne	1b

	/*
	 * Nothing of the hash may stay in a vector register. The restore below
	 * overwrites every register used; the scratch ones (round temporaries and the
	 * free state register) are cleared first all the same, as in sha256_ce.S.
	 */
	movi	v4.16b, #0
	movi	v5.16b, #0
	movi	v6.16b, #0
	movi	v7.16b, #0
	ldp	q0, q1, [sp, #0]
	ldp	q2, q3, [sp, #32]
	ldp	q4, q5, [sp, #64]
	ldp	q6, q7, [sp, #96]
	ldp	q16, q17, [sp, #128]
	ldp	q18, q19, [sp, #160]
	ldp	q20, q21, [sp, #192]
	ldp	q22, q23, [sp, #224]
	add	sp, sp, #256
#ifndef SHA512_CE_USERMODE_TEST
	sve_restore_used 16, 0,1,2,3,4,5,6,7,16,17,18,19,20,21,22,23
	msr	cptr_el2, x9
	isb
#endif
3:	ret
	.size	rmm_sha512_blocks_ce, . - rmm_sha512_blocks_ce

	.section .rodata.sha512_k, "a"
	.balign	16
sha512_k:	/* FIPS 180-4 section 4.2.3 */
	.quad	0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc
	.quad	0x3956c25bf348b538, 0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118
	.quad	0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2
	.quad	0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694
	.quad	0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65
	.quad	0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5
	.quad	0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4
	.quad	0xc6e00bf33da88fc2, 0xd5a79147930aa725, 0x06ca6351e003826f, 0x142929670a0e6e70
	.quad	0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df
	.quad	0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b
	.quad	0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30
	.quad	0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8
	.quad	0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8
	.quad	0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3
	.quad	0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec
	.quad	0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b
	.quad	0xca273eceea26619c, 0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178
	.quad	0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b
	.quad	0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c
	.quad	0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817
