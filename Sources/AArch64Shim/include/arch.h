/*
 * Privileged-instruction bridge for the Embedded Swift firmware. Every function
 * is static inline: the Swift ClangImporter emits it into the Swift object, so a
 * call from Swift becomes the single instruction. Only AArch64 bare metal.
 */
#ifndef RMM_ARCH_H
#define RMM_ARCH_H

#include <stdint.h>
#include "rmm_layout.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

#define DEFINE_SYSREG_READ(name)                                  \
  ALWAYS_INLINE uint64_t read_##name(void) {                      \
    uint64_t v;                                                   \
    __asm__ volatile("mrs %0, " #name : "=r"(v));                 \
    return v;                                                     \
  }
#define DEFINE_SYSREG_WRITE(name)                                 \
  ALWAYS_INLINE void write_##name(uint64_t v) {                   \
    __asm__ volatile("msr " #name ", %0" : : "r"(v) : "memory");  \
  }
#define DEFINE_SYSREG_RW(name) DEFINE_SYSREG_READ(name) DEFINE_SYSREG_WRITE(name)

DEFINE_SYSREG_READ(CurrentEL)
DEFINE_SYSREG_READ(mpidr_el1)
DEFINE_SYSREG_READ(id_aa64pfr0_el1)
DEFINE_SYSREG_READ(id_aa64pfr1_el1)
DEFINE_SYSREG_READ(id_aa64mmfr0_el1)
DEFINE_SYSREG_READ(id_aa64mmfr1_el1)
DEFINE_SYSREG_READ(id_aa64isar0_el1)
DEFINE_SYSREG_READ(id_aa64isar1_el1)
DEFINE_SYSREG_READ(id_aa64isar2_el1)
DEFINE_SYSREG_READ(id_aa64mmfr2_el1)
DEFINE_SYSREG_READ(id_aa64dfr0_el1)
DEFINE_SYSREG_READ(cntpct_el0)
DEFINE_SYSREG_READ(cntvct_el0)
DEFINE_SYSREG_READ(cntfrq_el0)
DEFINE_SYSREG_READ(dczid_el0)
DEFINE_SYSREG_READ(esr_el2)
DEFINE_SYSREG_READ(far_el2)
DEFINE_SYSREG_READ(hpfar_el2)
DEFINE_SYSREG_RW(elr_el2)
DEFINE_SYSREG_RW(spsr_el2)
DEFINE_SYSREG_RW(sctlr_el2)
DEFINE_SYSREG_RW(hcr_el2)
DEFINE_SYSREG_RW(tpidr_el2)
DEFINE_SYSREG_RW(vttbr_el2)
DEFINE_SYSREG_RW(vtcr_el2)
DEFINE_SYSREG_RW(cptr_el2)
DEFINE_SYSREG_RW(mdcr_el2)
/* PMUv3, for realms with a PMU (Sources/RMMFirmware/RealmPMU.swift). */
DEFINE_SYSREG_RW(pmcr_el0)
DEFINE_SYSREG_RW(pmcntenset_el0)
DEFINE_SYSREG_RW(pmcntenclr_el0)
DEFINE_SYSREG_RW(pmintenset_el1)
DEFINE_SYSREG_RW(pmintenclr_el1)
DEFINE_SYSREG_RW(pmovsset_el0)
DEFINE_SYSREG_RW(pmovsclr_el0)
DEFINE_SYSREG_RW(pmselr_el0)
DEFINE_SYSREG_RW(pmuserenr_el0)
DEFINE_SYSREG_RW(pmccfiltr_el0)
DEFINE_SYSREG_RW(pmccntr_el0)
DEFINE_SYSREG_RW(pmxevcntr_el0)
DEFINE_SYSREG_RW(pmxevtyper_el0)
DEFINE_SYSREG_RW(cnthctl_el2)
DEFINE_SYSREG_RW(cntvoff_el2)
DEFINE_SYSREG_RW(cntv_ctl_el0)
DEFINE_SYSREG_RW(cntv_cval_el0)
DEFINE_SYSREG_RW(cntp_ctl_el0)
DEFINE_SYSREG_RW(cntp_cval_el0)
DEFINE_SYSREG_RW(cnthp_ctl_el2)
DEFINE_SYSREG_RW(cnthp_tval_el2)
DEFINE_SYSREG_RW(daif)
DEFINE_SYSREG_READ(isr_el1)
DEFINE_SYSREG_RW(vbar_el1)
DEFINE_SYSREG_RW(esr_el1)
DEFINE_SYSREG_RW(far_el1)
DEFINE_SYSREG_RW(elr_el1)
DEFINE_SYSREG_RW(spsr_el1)
/* GICv3 virtual CPU interface (S3_4_C12_...: written by encoding, any assembler). */
#define DEFINE_SYSREG_RW_ENC(name, enc)                            \
  ALWAYS_INLINE uint64_t read_##name(void) {                       \
    uint64_t v;                                                    \
    __asm__ volatile("mrs %0, " enc : "=r"(v));                    \
    return v;                                                      \
  }                                                                \
  ALWAYS_INLINE void write_##name(uint64_t v) {                    \
    __asm__ volatile("msr " enc ", %0" : : "r"(v) : "memory");     \
  }
#define DEFINE_SYSREG_READ_ENC(name, enc)                          \
  ALWAYS_INLINE uint64_t read_##name(void) {                       \
    uint64_t v;                                                    \
    __asm__ volatile("mrs %0, " enc : "=r"(v));                    \
    return v;                                                      \
  }
DEFINE_SYSREG_READ_ENC(id_aa64zfr0_el1, "S3_0_C0_C4_4")
DEFINE_SYSREG_RW_ENC(ich_hcr_el2, "S3_4_C12_C11_0")
DEFINE_SYSREG_RW_ENC(ich_vtr_el2, "S3_4_C12_C11_1")
DEFINE_SYSREG_RW_ENC(ich_misr_el2, "S3_4_C12_C11_2")
DEFINE_SYSREG_RW_ENC(ich_vmcr_el2, "S3_4_C12_C11_7")
DEFINE_SYSREG_RW_ENC(ich_ap0r0_el2, "S3_4_C12_C8_0")
DEFINE_SYSREG_RW_ENC(ich_ap1r0_el2, "S3_4_C12_C9_0")
DEFINE_SYSREG_RW_ENC(ich_ap0r1_el2, "S3_4_C12_C8_1")
DEFINE_SYSREG_RW_ENC(ich_ap1r1_el2, "S3_4_C12_C9_1")
DEFINE_SYSREG_RW_ENC(ich_ap0r2_el2, "S3_4_C12_C8_2")
DEFINE_SYSREG_RW_ENC(ich_ap1r2_el2, "S3_4_C12_C9_2")
DEFINE_SYSREG_RW_ENC(ich_ap0r3_el2, "S3_4_C12_C8_3")
DEFINE_SYSREG_RW_ENC(ich_ap1r3_el2, "S3_4_C12_C9_3")
DEFINE_SYSREG_RW_ENC(ich_lr0_el2, "S3_4_C12_C12_0")
DEFINE_SYSREG_RW_ENC(ich_lr1_el2, "S3_4_C12_C12_1")
DEFINE_SYSREG_RW_ENC(ich_lr2_el2, "S3_4_C12_C12_2")
DEFINE_SYSREG_RW_ENC(ich_lr3_el2, "S3_4_C12_C12_3")
DEFINE_SYSREG_RW_ENC(ich_lr4_el2, "S3_4_C12_C12_4")
DEFINE_SYSREG_RW_ENC(ich_lr5_el2, "S3_4_C12_C12_5")
DEFINE_SYSREG_RW_ENC(ich_lr6_el2, "S3_4_C12_C12_6")
DEFINE_SYSREG_RW_ENC(ich_lr7_el2, "S3_4_C12_C12_7")
DEFINE_SYSREG_RW_ENC(ich_lr8_el2, "S3_4_C12_C13_0")
DEFINE_SYSREG_RW_ENC(ich_lr9_el2, "S3_4_C12_C13_1")
DEFINE_SYSREG_RW_ENC(ich_lr10_el2, "S3_4_C12_C13_2")
DEFINE_SYSREG_RW_ENC(ich_lr11_el2, "S3_4_C12_C13_3")
DEFINE_SYSREG_RW_ENC(ich_lr12_el2, "S3_4_C12_C13_4")
DEFINE_SYSREG_RW_ENC(ich_lr13_el2, "S3_4_C12_C13_5")
DEFINE_SYSREG_RW_ENC(ich_lr14_el2, "S3_4_C12_C13_6")
DEFINE_SYSREG_RW_ENC(ich_lr15_el2, "S3_4_C12_C13_7")
DEFINE_SYSREG_READ(ttbr0_el2)
DEFINE_SYSREG_READ(tcr_el2)

ALWAYS_INLINE void dsb_sy(void)    { __asm__ volatile("dsb sy"    ::: "memory"); }
ALWAYS_INLINE void dsb_ish(void)   { __asm__ volatile("dsb ish"   ::: "memory"); }
ALWAYS_INLINE void dsb_ishst(void) { __asm__ volatile("dsb ishst" ::: "memory"); }
ALWAYS_INLINE void dsb_nsh(void)   { __asm__ volatile("dsb nsh"   ::: "memory"); }
ALWAYS_INLINE void isb(void)       { __asm__ volatile("isb"       ::: "memory"); }
ALWAYS_INLINE void wfe(void)       { __asm__ volatile("wfe"); }
ALWAYS_INLINE void sev(void)       { __asm__ volatile("sev"); }
ALWAYS_INLINE void cpu_relax(void) { __asm__ volatile("yield" ::: "memory"); }

/* Local invalidation of one EL2 stage-1 page: the slots are per CPU, so no broadcast. */
ALWAYS_INLINE void tlbi_vae2(uint64_t va) {
  __asm__ volatile("tlbi vae2, %0" : : "r"(va >> 12) : "memory");
}
ALWAYS_INLINE void dc_cvac(uint64_t va) { __asm__ volatile("dc cvac, %0" : : "r"(va) : "memory"); }

/* Stage-1 page descriptor attributes for Swift (composite macros do not import). */
ALWAYS_INLINE uint64_t s1_normal_rw_attributes(void) { return S1_NORMAL_RW; }
ALWAYS_INLINE uint64_t s1_device_rw_attributes(void) { return S1_DEVICE_RW; }
ALWAYS_INLINE uint64_t s1_non_secure_bit(void) { return S1_NS; }
ALWAYS_INLINE uint64_t s1_read_only_bit(void) { return S1_READ_ONLY; }

/* ---- SMCCC ---------------------------------------------------------------- */
typedef struct { uint64_t x0, x1, x2, x3; } smc_result_t;

ALWAYS_INLINE smc_result_t smc_call(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4) {
  register uint64_t r0 __asm__("x0") = fid;
  register uint64_t r1 __asm__("x1") = a1;
  register uint64_t r2 __asm__("x2") = a2;
  register uint64_t r3 __asm__("x3") = a3;
  register uint64_t r4 __asm__("x4") = a4;
  __asm__ volatile("smc #0"
                   : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r4)
                   :
                   : "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14",
                     "x15", "x16", "x17", "memory");
  smc_result_t res = {r0, r1, r2, r3};
  return res;
}

/* All five result registers, for callers that check SMCCC register preservation. */
typedef struct { uint64_t x0, x1, x2, x3, x4; } smc_result5_t;
ALWAYS_INLINE smc_result5_t smc_call5(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                                      uint64_t a5) {
  register uint64_t r0 __asm__("x0") = fid;
  register uint64_t r1 __asm__("x1") = a1;
  register uint64_t r2 __asm__("x2") = a2;
  register uint64_t r3 __asm__("x3") = a3;
  register uint64_t r4 __asm__("x4") = a4;
  register uint64_t r5 __asm__("x5") = a5;
  __asm__ volatile("smc #0"
                   : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r4), "+r"(r5)
                   :
                   : "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14",
                     "x15", "x16", "x17", "memory");
  smc_result5_t res = {r0, r1, r2, r3, r4};
  return res;
}

/* Plain (MMU-off, Device memory) loads and stores for the NS test payload. */
ALWAYS_INLINE uint64_t mmio_read64(uint64_t pa) { return *(volatile uint64_t *)pa; }
ALWAYS_INLINE void mmio_write64(uint64_t pa, uint64_t v) { *(volatile uint64_t *)pa = v; }

/* NS test payload (boot/testhost_entry.S): a load that reports a fault instead of
 * taking it. esr == 0 means the load worked. */
typedef struct { uint64_t value; uint64_t esr; } probe_result_t;
probe_result_t testhost_probe_read(uint64_t pa);
extern char testhost_secondary_entry[];
void testhost_fp_set(uint64_t value);
uint64_t testhost_fp_get(void);
uint64_t testhost_fp_sve_setup(uint64_t len);
uint64_t testhost_fp_sve_zcr(void);
void testhost_fp_sve_load(const void *buffer);
void testhost_fp_sve_store(void *buffer);
void testhost_el1_set(uint64_t value);
uint64_t testhost_semihosting(uint64_t operation, uint64_t parameters);
uint64_t testhost_el1_mismatches(uint64_t value);
extern __attribute__((visibility("hidden"))) char testrealm_image_start[], testrealm_image_end[];
ALWAYS_INLINE uint64_t testrealm_image_address(void) { return (uint64_t)testrealm_image_start; }
ALWAYS_INLINE uint64_t testrealm_image_size(void) { return (uint64_t)(testrealm_image_end - testrealm_image_start); }
ALWAYS_INLINE uint32_t mmio_read32(uint64_t pa) { return *(volatile uint32_t *)pa; }
ALWAYS_INLINE void mmio_write32(uint64_t pa, uint32_t v) { *(volatile uint32_t *)pa = v; }
ALWAYS_INLINE uint8_t mmio_read8(uint64_t pa) { return *(volatile uint8_t *)pa; }
ALWAYS_INLINE void mmio_write8(uint64_t pa, uint8_t v) { *(volatile uint8_t *)pa = v; }
DEFINE_SYSREG_RW_ENC(icc_pmr_el1, "S3_0_C4_C6_0")
DEFINE_SYSREG_RW_ENC(icc_igrpen1_el1, "S3_0_C12_C12_7")
DEFINE_SYSREG_RW_ENC(icc_hppir1_el1, "S3_0_C12_C12_2")
DEFINE_SYSREG_RW_ENC(icc_hppir0_el1, "S3_0_C12_C8_2")
DEFINE_SYSREG_RW_ENC(icc_iar1_el1, "S3_0_C12_C12_0")
DEFINE_SYSREG_RW_ENC(icc_eoir1_el1, "S3_0_C12_C12_1")
DEFINE_SYSREG_RW_ENC(icc_sgi1r_el1, "S3_0_C12_C11_5")
DEFINE_SYSREG_RW_ENC(icc_dir_el1, "S3_0_C12_C11_1")
DEFINE_SYSREG_RW_ENC(icc_ctlr_el1, "S3_0_C12_C12_4")

/* A spin lock for the NS payload's CPUs (its MMU is off: QEMU's TCG honours
 * exclusives on any memory, which is all this test host runs on). */
ALWAYS_INLINE void testhost_lock(uint64_t *lock) {
  while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE) != 0) {}
}
ALWAYS_INLINE void testhost_unlock(uint64_t *lock) { __atomic_store_n(lock, 0, __ATOMIC_RELEASE); }
ALWAYS_INLINE uint64_t testhost_secondary_entry_address(void) { return (uint64_t)testhost_secondary_entry; }

/* ---- granule descriptor lock (bit 15 of a 16-bit descriptor) --------------- */
ALWAYS_INLINE uint16_t granule_lock_acquire(uint16_t *descriptor) {
  for (;;) {
    uint16_t seen = __atomic_load_n(descriptor, __ATOMIC_RELAXED);
    if ((seen & 0x8000u) == 0 &&
        __atomic_compare_exchange_n(descriptor, &seen, (uint16_t)(seen | 0x8000u), 1,
                                    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
      return seen;
    cpu_relax();
  }
}
ALWAYS_INLINE void granule_lock_release(uint16_t *descriptor, uint16_t value) {
  __atomic_store_n(descriptor, (uint16_t)(value & 0x7FFFu), __ATOMIC_RELEASE);
}
ALWAYS_INLINE uint16_t granule_peek(const uint16_t *descriptor) {
  return __atomic_load_n(descriptor, __ATOMIC_RELAXED);
}

/* What rmm_report_crash tells the vector code to report, in x0/x1. */
typedef struct { uint64_t status; uint64_t serving_rmi; } crash_outcome_t;

/* ---- stage-2 TLB maintenance for one VMID (broadcast, inner shareable) ----------
 * TLBI by IPA acts on the VMID in VTTBR_EL2, so the VMID is switched in for the
 * operation and the previous VTTBR_EL2 restored. Stage-1 entries cached for the
 * VMID (combined stage-1+2) go with TLBI VMALLE1IS. */
ALWAYS_INLINE void tlbi_stage2_ipa(uint16_t vmid, uint64_t ipa) {
  uint64_t saved;
  __asm__ volatile("mrs %0, vttbr_el2" : "=r"(saved));
  __asm__ volatile(
      "msr vttbr_el2, %0\n isb\n dsb ishst\n"
      "tlbi ipas2e1is, %1\n dsb ish\n"
      "tlbi vmalle1is\n dsb ish\n"
      "msr vttbr_el2, %2\n isb\n"
      : : "r"((uint64_t)vmid << 48), "r"(ipa >> 12), "r"(saved) : "memory");
}
ALWAYS_INLINE void tlbi_stage2_vmid(uint16_t vmid) {
  uint64_t saved;
  __asm__ volatile("mrs %0, vttbr_el2" : "=r"(saved));
  __asm__ volatile(
      "msr vttbr_el2, %0\n isb\n dsb ishst\n"
      "tlbi vmalls12e1is\n dsb ish\n"
      "msr vttbr_el2, %1\n isb\n"
      : : "r"((uint64_t)vmid << 48), "r"(saved) : "memory");
}

/* ---- VMID bitmap (boot/runtime.c): 65536 bits ----------------------------------- */
extern __attribute__((visibility("hidden"))) uint64_t rmm_vmid_bitmap[1024];
/* Sets bit `vmid`; returns 1 if it was clear (the VMID is now ours). */
ALWAYS_INLINE int vmid_reserve(uint16_t vmid) {
  uint64_t bit = 1ULL << (vmid & 63);
  uint64_t old = __atomic_fetch_or(&rmm_vmid_bitmap[vmid >> 6], bit, __ATOMIC_ACQ_REL);
  return (old & bit) == 0;
}
ALWAYS_INLINE void vmid_release(uint16_t vmid) {
  __atomic_fetch_and(&rmm_vmid_bitmap[vmid >> 6], ~(1ULL << (vmid & 63)), __ATOMIC_RELEASE);
}

/* ---- memory helpers implemented in boot/ ----------------------------------- */
/* Zero one 4 KiB page at `va` with DC ZVA (boot/memory.S). */
void rmm_zero_page(uint64_t va);
/* Zero a just-delegated granule; 1 if the access aborted (no memory behind the PA). */
uint64_t rmm_zero_new_granule(uint64_t va);
/* Copy one 4 KiB page between two RMM-mapped, 16-byte aligned addresses. */
void rmm_copy_page(uint64_t destination, uint64_t source);
/* Fill one 4 KiB page at `va`: word i = first + i * step (boot/memory.S). */
void rmm_fill_page(uint64_t va, uint64_t first, uint64_t step);
/* Copy `bytes` (multiple of 8) between 8-byte aligned buffers where one side is NS
 * memory. Returns 0, or 1 if an access took a granule-protection fault or an
 * external abort (the vector fixes up ELR to fail the copy). (boot/memory.S) */
uint64_t rmm_ns_copy(uint64_t destination, uint64_t source, uint64_t bytes);

/* SHA-256 with the CPU's SHA instructions (boot/sha256_ce.S): `blocks` 64-byte blocks. */
__attribute__((visibility("hidden"))) void rmm_sha256_blocks_ce(void *state, const void *data, long blocks);
/* SHA-512 with the CPU's SHA-512 instructions (boot/sha512_ce.S): `blocks` 128-byte blocks. */
__attribute__((visibility("hidden"))) void rmm_sha512_blocks_ce(void *state, const void *data, long blocks);

/* ---- REC world switch (boot/rec_switch.S) ---------------------------------------- */
uint64_t rmm_run_realm(uint64_t context);
void rmm_el1_save(uint64_t *regs);
void rmm_el1_restore(const uint64_t *regs);

/* ---- audit log storage (boot/runtime.c): per CPU 1024 records of up to 48 bytes ---- */
#define RMM_AUDIT_RECORD_STRIDE 40
extern __attribute__((visibility("hidden"))) uint64_t rmm_audit_storage[];
ALWAYS_INLINE void *rmm_audit_storage_base(void) { return (void *)rmm_audit_storage; }
ALWAYS_INLINE long rmm_audit_record_stride(void) { return RMM_AUDIT_RECORD_STRIDE; }
#define RMM_AUDIT_STATE_STRIDE 128
extern __attribute__((visibility("hidden"))) uint64_t rmm_audit_state[];
ALWAYS_INLINE void *rmm_audit_state_base(void) { return (void *)rmm_audit_state; }
ALWAYS_INLINE long rmm_audit_state_stride(void) { return RMM_AUDIT_STATE_STRIDE; }

/* ---- FP/SIMD switch (boot/fp_switch.S): 528-byte areas, q0-q31, FPCR, FPSR ---------- */
__attribute__((visibility("hidden"))) void rmm_fp_enter_realm(uint64_t *ns_area, const uint64_t *rec_area,
                                                             uint64_t *ns_sve_area);
__attribute__((visibility("hidden"))) void rmm_fp_leave_realm(uint64_t *rec_area, const uint64_t *ns_area,
                                                             const uint64_t *ns_sve_area);
/* SVE realms (boot/fp_switch.S): the host's whole SVE state is saved, the REC's Z, P
 * and FFR loaded from `rec_sve` at the realm's vector length (`realm_zcr` = ZCR_EL2 of
 * the realm), FPCR/FPSR and the realm's ZCR_EL1 from the REC's FP area (ZCR_EL1 at
 * byte 528); the host's ZCR_EL2 and ZCR_EL1 are kept at bytes 528 and 536 of its FP
 * area. SVE stays enabled (CPTR_EL2.TZ = 0) while the realm runs. */
__attribute__((visibility("hidden"))) void rmm_sve_enter_realm(uint64_t *ns_area, const uint64_t *rec_area,
                                                              uint64_t *ns_sve_area, const void *rec_sve,
                                                              uint64_t realm_zcr);
__attribute__((visibility("hidden"))) void rmm_sve_leave_realm(uint64_t *rec_area, const uint64_t *ns_area,
                                                              const uint64_t *ns_sve_area, void *rec_sve);
/* The largest SVE vector length the CPU offers this RMM, in bytes (0: no SVE). */
__attribute__((visibility("hidden"))) uint64_t rmm_sve_max_vector_bytes(void);
/* 528 bytes of FP/SIMD registers, then ZCR_EL2 and ZCR_EL1 (68 words per CPU). */
#define RMM_NS_FP_AREA_WORDS 68
extern __attribute__((visibility("hidden"))) uint64_t rmm_ns_fp_state[];
ALWAYS_INLINE uint64_t *rmm_ns_fp_area(long cpu) { return rmm_ns_fp_state + cpu * RMM_NS_FP_AREA_WORDS; }
/* The host's SVE state at up to 2048-bit vectors: 32 Z of 256 bytes, 17 P/FFR of 32. */
#define RMM_NS_SVE_AREA_WORDS ((32 * 256 + 17 * 32) / 8)
extern __attribute__((visibility("hidden"))) uint64_t rmm_ns_sve_state[];
ALWAYS_INLINE uint64_t *rmm_ns_sve_area(long cpu) { return rmm_ns_sve_state + cpu * RMM_NS_SVE_AREA_WORDS; }
/* The host's PMU state while a REC of a realm with a PMU runs (RECPMULayout: 70 words). */
extern __attribute__((visibility("hidden"))) uint64_t rmm_ns_pmu_state[];
ALWAYS_INLINE uint64_t *rmm_ns_pmu_area(long cpu) { return rmm_ns_pmu_state + cpu * 70; }
/* The host's EL1 state while a REC runs: 34 slots as RECSystemRegisters, 4 timers. */
extern __attribute__((visibility("hidden"))) uint64_t rmm_ns_el1_state[];
ALWAYS_INLINE uint64_t *rmm_ns_el1_area(long cpu) { return rmm_ns_el1_state + cpu * 40; }

/* ---- linker-script symbols (hidden: PC-relative, no GOT) ------------------- */
#define LINKER_SYMBOL extern __attribute__((visibility("hidden"))) char
LINKER_SYMBOL __rmm_start[], __rmm_end[], __text_end[], __rodata_end[];
LINKER_SYMBOL __granules_start[], __granules_end[];
LINKER_SYMBOL __l3_fixed[], __l3_slots[];
ALWAYS_INLINE uint64_t rmm_image_start(void) { return (uint64_t)__rmm_start; }
ALWAYS_INLINE uint64_t rmm_image_end(void) { return (uint64_t)__rmm_end; }
ALWAYS_INLINE uint64_t rmm_text_end(void) { return (uint64_t)__text_end; }
ALWAYS_INLINE uint64_t rmm_rodata_end(void) { return (uint64_t)__rodata_end; }
ALWAYS_INLINE uint16_t *rmm_granule_descriptors(void) { return (uint16_t *)__granules_start; }
ALWAYS_INLINE uint64_t rmm_granule_descriptor_count(void) {
  return (uint64_t)(__granules_end - __granules_start) / 2;
}
ALWAYS_INLINE uint64_t *rmm_l3_fixed(void) { return (uint64_t *)__l3_fixed; }
ALWAYS_INLINE uint64_t *rmm_l3_slots(void) { return (uint64_t *)__l3_slots; }
/* This CPU's L3 table of the aux window (early_mmu.c). */
uint64_t *rmm_aux_window_l3(void);

/* ---- attestation material (boot/runtime.c) ---------------------------------------- */
#define RMM_PLATFORM_TOKEN_CAPACITY 8192
#define RMM_BOOT_CRYPTO_ARENA_SIZE  16384
extern __attribute__((visibility("hidden"))) uint8_t rmm_platform_token[RMM_PLATFORM_TOKEN_CAPACITY];
extern __attribute__((visibility("hidden"))) uint8_t rmm_rak_public_key[128];
extern __attribute__((visibility("hidden"))) uint64_t rmm_boot_crypto_arena[RMM_BOOT_CRYPTO_ARENA_SIZE / 8];
extern __attribute__((visibility("hidden"))) uint32_t rmm_shared_page_lock;
ALWAYS_INLINE uint8_t *rmm_platform_token_buffer(void) { return rmm_platform_token; }
ALWAYS_INLINE uint8_t *rmm_rak_public_key_buffer(void) { return rmm_rak_public_key; }
ALWAYS_INLINE void *rmm_boot_crypto_arena_base(void) { return rmm_boot_crypto_arena; }

/* The EL3 shared page is one page for every CPU: runtime exchanges take this lock. */
ALWAYS_INLINE void shared_page_lock(void) {
  for (;;) {
    uint32_t expected = 0;
    if (__atomic_compare_exchange_n(&rmm_shared_page_lock, &expected, 1u, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
      return;
    cpu_relax();
  }
}
ALWAYS_INLINE void shared_page_unlock(void) { __atomic_store_n(&rmm_shared_page_lock, 0u, __ATOMIC_RELEASE); }

/* FEAT_RNG: one 64-bit random number; 0 if the hardware could not deliver one (NZCV.Z). */
ALWAYS_INLINE int read_rndr(uint64_t *value) {
  uint64_t v, nzcv;
  __asm__ volatile("mrs %0, s3_3_c2_c4_0\n\tmrs %1, nzcv" : "=r"(v), "=r"(nzcv));
  *value = v;
  return (nzcv & (1ULL << 30)) == 0;
}

#endif
