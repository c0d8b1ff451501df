/*
 * Memory primitives the gate uses. rmm_ns_copy is the only code allowed to touch
 * NS memory: a fault inside [rmm_ns_access_start, rmm_ns_access_end) is expected
 * (granule-protection fault or external abort on a hostile address) and the
 * vector resumes at rmm_ns_access_fault, which fails the copy. The first write to
 * a newly delegated granule (rmm_zero_new_granule) is in the same range.
 */
	.section .text.memory, "ax"

/* void rmm_zero_page(uint64_t va): zero 4 KiB with DC ZVA (block size from DCZID_EL0). */
	.global	rmm_zero_page
rmm_zero_page:
	mrs	x1, dczid_el0
	tbnz	x1, #4, 2f			/* DZP: DC ZVA prohibited, use stores */
	and	x1, x1, #0xf
	mov	x2, #4
	lsl	x1, x2, x1			/* block size in bytes */
	add	x2, x0, #4096
	lsl	x3, x1, #2			/* four blocks a step while 4 KiB is a multiple of that */
	cmp	x3, #4096
	b.hi	4f
1:	dc	zva, x0
	add	x4, x0, x1
	dc	zva, x4
	add	x4, x4, x1
	dc	zva, x4
	add	x4, x4, x1
	dc	zva, x4
	add	x0, x0, x3
	cmp	x0, x2
	b.lo	1b
	ret
4:	dc	zva, x0				/* blocks of 2 KiB: one at a time */
	add	x0, x0, x1
	cmp	x0, x2
	b.lo	4b
	ret
2:	add	x2, x0, #4096
3:	stp	xzr, xzr, [x0], #16
	cmp	x0, x2
	b.lo	3b
	ret

/* void rmm_copy_page(uint64_t dst, uint64_t src): 4 KiB, both RMM mappings. */
	.global	rmm_copy_page
rmm_copy_page:
	add	x2, x0, #4096
1:	ldp	x3, x4, [x1], #16
	ldp	x5, x6, [x1], #16
	stp	x3, x4, [x0], #16
	stp	x5, x6, [x0], #16
	cmp	x0, x2
	b.lo	1b
	ret

/* void rmm_fill_page(uint64_t va, uint64_t first, uint64_t step): 4 KiB, RMM mapping,
 * word i = first + i * step (a new RTT: 512 copies of one entry, or consecutive
 * output addresses). 128 bytes a step for copies, 16 for a progression. */
	.global	rmm_fill_page
rmm_fill_page:
	add	x3, x0, #4096
	cbnz	x2, 2f
1:	stp	x1, x1, [x0]
	stp	x1, x1, [x0, #16]
	stp	x1, x1, [x0, #32]
	stp	x1, x1, [x0, #48]
	stp	x1, x1, [x0, #64]
	stp	x1, x1, [x0, #80]
	stp	x1, x1, [x0, #96]
	stp	x1, x1, [x0, #112]
	add	x0, x0, #128
	cmp	x0, x3
	b.lo	1b
	ret
2:	add	x4, x1, x2			/* odd words */
	lsl	x5, x2, #1			/* two words a step */
3:	stp	x1, x4, [x0], #16
	add	x1, x1, x5
	add	x4, x4, x5
	cmp	x0, x3
	b.lo	3b
	ret

/*
 * Fault-tolerant accessors: leaf functions (no frame, x30 intact) whose faults the
 * vector turns into a return of 1 through rmm_ns_access_fault.
 */
	.global	rmm_ns_access_start
rmm_ns_access_start:

/* uint64_t rmm_ns_copy(uint64_t dst, uint64_t src, uint64_t bytes): 8-byte words,
 * 64 bytes a step while that much is left, then 16, then 8 (the REC exit is 2 KiB,
 * the REC entry fields 904 bytes: the copy is on every REC_ENTER). */
	.global	rmm_ns_copy
rmm_ns_copy:
	subs	x2, x2, #64
	b.lo	4f
1:	ldp	x3, x4, [x1]
	ldp	x5, x6, [x1, #16]
	ldp	x7, x8, [x1, #32]
	ldp	x9, x10, [x1, #48]
	add	x1, x1, #64
	stp	x3, x4, [x0]
	stp	x5, x6, [x0, #16]
	stp	x7, x8, [x0, #32]
	stp	x9, x10, [x0, #48]
	add	x0, x0, #64
	subs	x2, x2, #64
	b.hs	1b
4:	adds	x2, x2, #64			/* 0..63 bytes left */
	b.eq	2f
5:	cmp	x2, #16
	b.lo	6f
	ldp	x3, x4, [x1], #16
	stp	x3, x4, [x0], #16
	subs	x2, x2, #16
	b.ne	5b
	b	2f
6:	ldr	x3, [x1], #8
	str	x3, [x0], #8
	subs	x2, x2, #8
	b.hi	6b
2:	mov	x0, #0
	ret

/*
 * uint64_t rmm_zero_new_granule(uint64_t va): zero a granule EL3 has just delegated.
 * It is the RMM's first touch of that PA, and the boot manifest may describe DRAM
 * the platform does not have: an external abort here returns 1 (the delegation is
 * undone) instead of bringing the RMM down.
 */
	.global	rmm_zero_new_granule
rmm_zero_new_granule:
	add	x2, x0, #4096
	mrs	x1, dczid_el0
	tbnz	x1, #4, 3f			/* DZP: DC ZVA prohibited, use stores */
	and	x1, x1, #0xf
	mov	x3, #4
	lsl	x1, x3, x1			/* block size in bytes */
	lsl	x3, x1, #2			/* four blocks a step while 4 KiB is a multiple of that */
	cmp	x3, #4096
	b.hi	4f
1:	dc	zva, x0				/* takes the same external abort a store would */
	add	x4, x0, x1
	dc	zva, x4
	add	x4, x4, x1
	dc	zva, x4
	add	x4, x4, x1
	dc	zva, x4
	add	x0, x0, x3
	cmp	x0, x2
	b.lo	1b
	b	2f
4:	dc	zva, x0				/* blocks of 2 KiB: one at a time */
	add	x0, x0, x1
	cmp	x0, x2
	b.lo	4b
	b	2f
3:	stp	xzr, xzr, [x0], #16
	stp	xzr, xzr, [x0], #16
	cmp	x0, x2
	b.lo	3b
2:	dsb	sy				/* a deferred abort must land inside the range */
	mov	x0, #0
	ret

	.global	rmm_ns_access_end
rmm_ns_access_end:
	.global	rmm_ns_access_fault
rmm_ns_access_fault:
	mov	x0, #1
	ret
