/* Realm test payload: FP/SIMD registers, to check the RMM keeps them the realm's. */
	.arch	armv8-a+fp+simd
	.section .text.realm_fp, "ax"
	.global	realm_fp_set			/* void realm_fp_set(uint64_t v): v0.d[0] = v, v31.d[1] = ~v */
realm_fp_set:
	mrs	x9, cpacr_el1
	orr	x9, x9, #(3 << 20)		/* FPEN: no trap at EL1/EL0 */
	msr	cpacr_el1, x9
	isb
	fmov	d0, x0
	mvn	x1, x0
	mov	v31.d[1], x1
	ret
	.global	realm_fp_get			/* uint64_t realm_fp_get(void): v0.d[0] ^ ~v31.d[1] (0 if intact) */
realm_fp_get:
	fmov	x0, d0
	mov	x1, v31.d[1]
	mvn	x1, x1
	eor	x0, x0, x1
	fmov	x1, d0
	cbnz	x0, 1f
	mov	x0, x1
	ret
1:	mov	x0, #0
	ret
