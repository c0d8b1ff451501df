# tfa_layout PLAT: the memory-map values TF-A itself compiles for PLAT (from its own
# headers, through the C preprocessor), as KEY=0xVALUE lines.
tfa_layout() {
  local t; t=$(tfa_dir)
  local src; src=$(mktemp --suffix=.S)
  printf '#include <platform_def.h>\nKEY_RMM_BASE=RMM_BASE\nKEY_RMM_REGION_SIZE=(RMM_LIMIT - RMM_BASE)\nKEY_RMM_SHARED_PAGE=RMM_SHARED_BASE\nKEY_PLATFORM_CORE_COUNT=PLATFORM_CORE_COUNT\nKEY_NS_IMAGE_BASE=PLAT_ARM_NS_IMAGE_BASE\n' >"$src"
  aarch64-linux-gnu-gcc -E -P -D__ASSEMBLER__ -DENABLE_RME=1 -DFVP_CLUSTER_COUNT=2 -DFVP_MAX_CPUS_PER_CLUSTER=4 \
    -DFVP_MAX_PE_PER_CPU=1 -DARM_ARCH_MAJOR=9 -DARM_ARCH_MINOR=2 -DIMAGE_BL31 \
    -I"$t/plat/arm/board/$1/include" -I"$t/include" -I"$t/include/plat/arm/common" \
    -I"$t/include/plat/arm/common/aarch64" -I"$t/include/plat/common" -I"$t/include/arch/aarch64" \
    -I"$t/include/lib/libc" -I"$t/include/lib/libc/aarch64" -I"$t/include/plat/arm/board/common" "$src" 2>/dev/null \
    | grep '^KEY_' | python3 -c '
import re, sys
for line in sys.stdin:
    key, expression = line.strip().split("=", 1)
    expression = re.sub(r"(0x[0-9a-fA-F]+|\d+)(ULL|UL|U|LL|L)\b", r"\1", expression)
    print("%s=0x%X" % (key[4:], eval(expression)))'
  rm -f "$src"
}
