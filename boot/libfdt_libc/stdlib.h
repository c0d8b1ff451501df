/* Freestanding <stdlib.h> for libfdt (scripts/lib/build-libfdt.sh): fdt_overlay.c parses
 * fixup offsets with strtoul (boot/libfdt_support.c). No allocation: libfdt has none. */
#ifndef RMM_LIBFDT_STDLIB_H
#define RMM_LIBFDT_STDLIB_H
#include <stddef.h>

unsigned long strtoul(const char *restrict s, char **restrict end, int base);

#endif
