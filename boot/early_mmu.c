/*
 * Stage-1 translation tables for the RMM at R-EL2, built once on the primary CPU
 * with the MMU off (before any Swift code runs), and the MMU enable used by every
 * CPU. Compiled -mgeneral-regs-only -mstrict-align; touches only its own tables.
 *
 *   image      identity mapped, 4 KiB pages: .text RX, .rodata RO, the rest RW XN
 *   high window  shared page (RW), console (Device, mapped later by Swift once the
 *              manifest is parsed), per-CPU slots (mapped on demand by the gate)
 *   aux window   same VA on every CPU, per-CPU contents (mapped on demand by the gate)
 *
 * Every CPU translates through its own L0 table: a copy of the shared one (same L1
 * tables, so the image and the high window are shared) plus the aux window's own
 * L1/L2/L3 chain.
 */
#include <stdint.h>
#include "rmm_layout.h"

#define HIDDEN __attribute__((visibility("hidden")))
extern HIDDEN char __rmm_start[], __rmm_end[], __text_end[], __rodata_end[];
extern HIDDEN uint64_t __l0[], __l1_image[], __l2_image[], __l3_image[];
extern HIDDEN uint64_t __l1_high[], __l2_high[], __l3_fixed[], __l3_slots[], __cpu_tables[];
extern HIDDEN char __l3_image_end[], __stacks_start[], __stacks_end[];

#define TABLE_DESC 0x3ULL
#define E_RMM_BOOT_UNKNOWN (-1)
#define E_RMM_BOOT_INVALID_SHARED_BUFFER (-5)

static unsigned idx(uint64_t va, int level) { return (unsigned)((va >> (39 - 9 * level)) & 511); }

/* CPU `cpu`'s tables: L0, then the aux window's L1, L2 and L3 (RMM_CPU_TABLES_SIZE). */
static uint64_t *cpu_l0(unsigned cpu) { return __cpu_tables + (uint64_t)cpu * (RMM_CPU_TABLES_SIZE / 8); }

long rmm_mmu_build_tables(uint64_t shared_pa) {
  uint64_t start = (uint64_t)__rmm_start, end = (uint64_t)__rmm_end;
  uint64_t l3_tables = (uint64_t)(__l3_image_end - (char *)__l3_image) / 4096;

  if ((shared_pa & 0xFFF) != 0 || shared_pa == 0 || (shared_pa >> 48) != 0)
    return E_RMM_BOOT_INVALID_SHARED_BUFFER;
  /* One L1 and one L2 table cover the image: it must not cross a 1 GiB boundary. */
  if ((start >> 30) != ((end - 1) >> 30) || (start >> 39) == 511)
    return E_RMM_BOOT_UNKNOWN;
  uint64_t first_l2 = idx(start, 2), last_l2 = idx(end - 1, 2);
  if (last_l2 - first_l2 + 1 > l3_tables)
    return E_RMM_BOOT_UNKNOWN;

  __l0[idx(start, 0)] = (uint64_t)__l1_image | TABLE_DESC;
  __l1_image[idx(start, 1)] = (uint64_t)__l2_image | TABLE_DESC;
  for (uint64_t i = first_l2; i <= last_l2; i++)
    __l2_image[i] = (uint64_t)&__l3_image[(i - first_l2) * 512] | TABLE_DESC;
  for (uint64_t va = start & ~0xFFFULL; va < end; va += 4096) {
    /* The lowest page of each CPU's stack region stays unmapped: a guard page. */
    if (va >= (uint64_t)__stacks_start && va < (uint64_t)__stacks_end &&
        ((va - (uint64_t)__stacks_start) & (RMM_STACK_SIZE - 1)) < RMM_STACK_GUARD_SIZE)
      continue;
    uint64_t desc = va | S1_VALID_PAGE | S1_ATTR_NORMAL | S1_AP1_RES1 | S1_INNER_SHAREABLE | S1_ACCESS_FLAG;
    if (va < (uint64_t)__text_end)
      desc |= S1_READ_ONLY;                     /* code: read-only, executable */
    else if (va < (uint64_t)__rodata_end)
      desc |= S1_READ_ONLY | S1_EXECUTE_NEVER;  /* constants */
    else
      desc |= S1_EXECUTE_NEVER;                 /* data, bss, tables, stacks */
    uint64_t l3_index = ((va >> 21) & 511) - first_l2;
    __l3_image[l3_index * 512 + idx(va, 3)] = desc;
  }

  __l0[idx(RMM_HIGH_WINDOW_VA, 0)] = (uint64_t)__l1_high | TABLE_DESC;
  __l1_high[idx(RMM_HIGH_WINDOW_VA, 1)] = (uint64_t)__l2_high | TABLE_DESC;
  __l2_high[idx(RMM_SHARED_PAGE_VA, 2)] = (uint64_t)__l3_fixed | TABLE_DESC;
  __l2_high[idx(RMM_SLOTS_VA, 2)] = (uint64_t)__l3_slots | TABLE_DESC;
  __l3_fixed[idx(RMM_SHARED_PAGE_VA, 3)] = shared_pa | S1_NORMAL_RW;

  for (unsigned cpu = 0; cpu < RMM_MAX_CPUS; cpu++) {
    uint64_t *l0 = cpu_l0(cpu), *l1 = l0 + 512, *l2 = l0 + 1024, *l3 = l0 + 1536;
    for (unsigned i = 0; i < 512; i++) l0[i] = __l0[i];
    l0[idx(RMM_AUX_WINDOW_VA, 0)] = (uint64_t)l1 | TABLE_DESC;
    l1[idx(RMM_AUX_WINDOW_VA, 1)] = (uint64_t)l2 | TABLE_DESC;
    l2[idx(RMM_AUX_WINDOW_VA, 2)] = (uint64_t)l3 | TABLE_DESC;
  }
  return 0;
}

/* The aux window's L3 table of this CPU (the gate fills its first entries). */
uint64_t *rmm_aux_window_l3(void) {
  uint64_t cpu;
  __asm__ volatile("mrs %0, tpidr_el2" : "=r"(cpu));
  return cpu_l0((unsigned)cpu) + 1536;
}

static void enable(void) {
  uint64_t mmfr0, pa_range, cpu;
  __asm__ volatile("mrs %0, tpidr_el2" : "=r"(cpu));  /* set by rmm_entry.S before the MMU */
  __asm__ volatile("mrs %0, id_aa64mmfr0_el1" : "=r"(mmfr0));
  pa_range = mmfr0 & 0xF;
  if (pa_range > 5) pa_range = 5;  /* 48-bit output addresses with 4 KiB, no LPA2 */

  uint64_t mair = 0xFFULL | (0x04ULL << 8) | (0x44ULL << 16);
  uint64_t tcr = 16 /* T0SZ: 48-bit VA */ | (1ULL << 8) | (1ULL << 10) | (3ULL << 12) |
                 (pa_range << 16) | (1ULL << 23) | (1ULL << 31);
  /* RES1 bits, M, C, SA, I, WXN */
  uint64_t sctlr = 0x30C50830ULL | (1 << 0) | (1 << 2) | (1 << 3) | (1 << 12) | (1 << 19);
  __asm__ volatile(
      "msr mair_el2, %0\n"
      "msr tcr_el2, %1\n"
      "msr ttbr0_el2, %2\n"
      "isb\n"
      "tlbi alle2\n"
      "dsb nsh\n"
      "isb\n"
      "msr sctlr_el2, %3\n"
      "isb\n"
      :
      : "r"(mair), "r"(tcr), "r"((uint64_t)cpu_l0((unsigned)cpu)), "r"(sctlr)
      : "memory");
}

/* Warm boot: the tables exist; just turn translation on. */
void rmm_mmu_enable(void) { enable(); }

/* Cold boot: everything so far was written with the caches off, straight to memory.
 * Invalidate any stale lines for the image before the first cacheable access. */
void rmm_mmu_enable_cold(void) {
  uint64_t ctr, line;
  __asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
  line = 4ULL << ((ctr >> 16) & 0xF);
  for (uint64_t va = (uint64_t)__rmm_start & ~(line - 1); va < (uint64_t)__rmm_end; va += line)
    __asm__ volatile("dc ivac, %0" : : "r"(va) : "memory");
  __asm__ volatile("dsb sy" ::: "memory");
  enable();
}
