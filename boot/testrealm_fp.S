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
#include "sve_state.inc"
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
	load_sve x0, x1
	ret

	.global	realm_sve_store
realm_sve_store:
	save_sve x0, x1
	ldr	p0, [x1, #0, mul vl]		/* P0 back: RDFFR borrowed it */
	ret

	.global	realm_pmu_software_increment	/* void realm_pmu_software_increment(uint64_t counters) */
realm_pmu_software_increment:
	msr	pmswinc_el0, x0
	isb
	ret
