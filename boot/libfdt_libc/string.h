/* Freestanding <string.h> for libfdt (scripts/lib/build-libfdt.sh): declarations only,
 * the standard prototypes of what libfdt calls. memcpy, memmove, memset and memcmp come
 * from boot/runtime.c; memchr, strchr, strrchr, strlen and strnlen from
 * boot/libfdt_support.c. */
#ifndef RMM_LIBFDT_STRING_H
#define RMM_LIBFDT_STRING_H
#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int value, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);

#endif
