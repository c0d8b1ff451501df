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

/* SVE, for the feature realm (Sources/TestRealm/FeatureRealmTests.swift). Buffers as
 * the RMM's: Z0-31 at 32 VL, then P0-15 and FFR at VL/8 each.
 * uint64_t realm_sve_set_length(uint64_t len): SVE and FP allowed at EL1 (CPACR_EL1.ZEN,
 *   FPEN), ZCR_EL1.LEN = len; returns RDVL (the vector length in bytes now in force).
 * void realm_sve_load(const void *buffer) / realm_sve_store(void *buffer) */
	.arch	armv8-a+fp+simd+sve
	.global	realm_sve_set_length
realm_sve_set_length:
	mrs	x9, cpacr_el1
	orr	x9, x9, #(3 << 16)		/* ZEN */
	orr	x9, x9, #(3 << 20)		/* FPEN */
	msr	cpacr_el1, x9
	isb
	msr	S3_0_C1_C2_0, x0		/* ZCR_EL1 */
	isb
	rdvl	x0, #1
	ret

	.global	realm_sve_load
realm_sve_load:
	addvl	x1, x0, #31
	addvl	x1, x1, #1
	ldr	p0, [x1, #16, mul vl]
	wrffr	p0.b
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	ldr	p\n, [x1, #\n, mul vl]
	.endr
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ldr	z\n, [x0, #\n, mul vl]
	.endr
	ret

	.global	realm_sve_store
realm_sve_store:
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	str	z\n, [x0, #\n, mul vl]
	.endr
	addvl	x1, x0, #31
	addvl	x1, x1, #1
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	str	p\n, [x1, #\n, mul vl]
	.endr
	rdffr	p0.b
	str	p0, [x1, #16, mul vl]
	ldr	p0, [x1, #0, mul vl]		/* P0 back: RDFFR borrowed it */
	ret

	.global	realm_pmu_software_increment	/* void realm_pmu_software_increment(uint64_t counters) */
realm_pmu_software_increment:
	msr	pmswinc_el0, x0
	isb
	ret
