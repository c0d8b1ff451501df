/*
 * The RMM's own virtual memory layout, shared by the boot assembly, early_mmu.c and Swift.
 * The RMM image is identity mapped (VA == PA), so one position-independent image
 * runs wherever the board loads it. Everything else the RMM touches lives in the
 * "high window" at the top of the 48-bit VA space:
 *   page 0        the EL3<->RMM shared page
 *   pages 1..16   the console MMIO (from the boot manifest)
 *   2 MiB + ...   per-CPU slots: transient mappings of granules, the only way the
 *                 RMM reaches memory by physical address (the gate).
 * and one window that has the same VA on every CPU but different contents, through
 * per-CPU translation tables (each CPU has its own L0 table, a copy of the shared one
 * plus this window's own L1/L2/L3):
 *   RMM_AUX_WINDOW_VA  the running REC's aux granules, mapped together by the gate
 *                 for attestation: the signature's state keeps pointers into them,
 *                 so they must appear at the same address on whichever CPU resumes it.
 */
#ifndef RMM_LAYOUT_H
#define RMM_LAYOUT_H

#define RMM_MAX_CPUS            32
/* Per CPU, 64 KiB: [guard page, unmapped][stack, 56 KiB][exception stack, 4 KiB].
 * A stack overflow hits the guard page; the exception then runs on the exception
 * stack (SP_EL0), reports, and the CPU abandons the call instead of corrupting
 * memory below its stack. */
#define RMM_STACK_SHIFT         16
#define RMM_STACK_SIZE          (1 << RMM_STACK_SHIFT)
#define RMM_STACK_GUARD_SIZE    0x1000
#define RMM_EXCEPTION_STACK_SIZE 0x1000

#define RMM_HIGH_WINDOW_VA      0x0000FF8000000000ULL
#define RMM_SHARED_PAGE_VA      (RMM_HIGH_WINDOW_VA + 0x0000)
#define RMM_CONSOLE_VA          (RMM_HIGH_WINDOW_VA + 0x1000)
#define RMM_CONSOLE_MAX_PAGES   16
#define RMM_SLOTS_VA            (RMM_HIGH_WINDOW_VA + 0x200000)
#define RMM_SLOTS_PER_CPU       16              /* 32 CPUs x 16 slots = one L3 table */
#define RMM_AUX_WINDOW_VA       0x0000FF0000000000ULL   /* L0 index 510: per-CPU tables */
#define RMM_AUX_WINDOW_PAGES    16              /* RMI_REC_AUX_COUNT is at most 16 */
#define RMM_CPU_TABLES_SIZE     (4 * 4096)      /* per CPU: L0, and L1/L2/L3 of the window */

/* Stage-1 descriptor bits (VMSAv8-64, EL2 single VA range, 4 KiB granule). */
#define S1_VALID_PAGE           0x3ULL
#define S1_ATTR_NORMAL          (0ULL << 2)     /* MAIR index 0: Normal WB RA WA */
#define S1_ATTR_DEVICE          (1ULL << 2)     /* MAIR index 1: Device-nGnRE */
#define S1_NS                   (1ULL << 5)     /* Non-secure PAS (else Realm PAS) */
#define S1_AP1_RES1             (1ULL << 6)
#define S1_READ_ONLY            (1ULL << 7)
#define S1_INNER_SHAREABLE      (3ULL << 8)
#define S1_ACCESS_FLAG          (1ULL << 10)
#define S1_EXECUTE_NEVER        (1ULL << 54)
#define S1_OA_MASK              0x0000FFFFFFFFF000ULL

#define S1_NORMAL_RW  (S1_VALID_PAGE | S1_ATTR_NORMAL | S1_AP1_RES1 | S1_INNER_SHAREABLE | S1_ACCESS_FLAG | S1_EXECUTE_NEVER)
#define S1_DEVICE_RW  (S1_VALID_PAGE | S1_ATTR_DEVICE | S1_AP1_RES1 | S1_ACCESS_FLAG | S1_EXECUTE_NEVER)

#endif
