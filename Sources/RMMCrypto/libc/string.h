/* Freestanding <string.h> for mbedTLS in the RMM: declarations only. memcpy, memset,
 * memmove and memcmp come from boot/runtime.c; strlen and strcmp (only reachable from
 * mbedTLS's by-name lookups, which the RMM never calls) from rmm_crypto.c. The host
 * build takes all of them from the C library. */
#ifndef RMM_LIBC_STRING_H
#define RMM_LIBC_STRING_H
#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int value, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

#endif
