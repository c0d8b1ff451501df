/*
 * The C library functions libfdt calls that boot/runtime.c does not have (it has
 * memcpy, memmove, memset and memcmp). Built into libfdt.a by scripts/lib/build-libfdt.sh
 * with the firmware's freestanding flags (-fno-builtin: no loop is turned back into a
 * call to the function it implements).
 *
 * Every definition is weak: another part of an image may bring its own (rmm_crypto.c
 * defines strlen), and that one is then used instead of a duplicate-symbol error.
 * strtoul sets no errno (there is none): overflow gives ULONG_MAX, as the standard says.
 */
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define WEAK __attribute__((weak))

WEAK void *memchr(const void *s, int c, size_t n) {
  const unsigned char *p = s;
  for (; n; n--, p++)
    if (*p == (unsigned char)c) return (void *)p;
  return NULL;
}

WEAK size_t strlen(const char *s) {
  const char *p = s;
  while (*p) p++;
  return (size_t)(p - s);
}

WEAK size_t strnlen(const char *s, size_t max) {
  size_t n = 0;
  while (n < max && s[n]) n++;
  return n;
}

/* The terminating NUL is part of the string: strchr(s, 0) finds it. */
WEAK char *strchr(const char *s, int c) {
  for (;; s++) {
    if (*s == (char)c) return (char *)s;
    if (!*s) return NULL;
  }
}

WEAK char *strrchr(const char *s, int c) {
  const char *last = NULL;
  for (;; s++) {
    if (*s == (char)c) last = s;
    if (!*s) return (char *)last;
  }
}

static int digit_value(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'z') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'Z') return ch - 'A' + 10;
  return 99;
}

WEAK unsigned long strtoul(const char *restrict s, char **restrict end, int base) {
  const char *p = s;
  while (*p == ' ' || (*p >= '\t' && *p <= '\r')) p++;
  int negative = 0;
  if (*p == '+' || *p == '-') negative = *p++ == '-';
  if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && digit_value(p[2]) < 16) {
    p += 2;
    base = 16;
  } else if (base == 0) {
    base = p[0] == '0' ? 8 : 10;
  }
  if (base < 2 || base > 36) {
    if (end) *end = (char *)s;
    return 0;
  }
  unsigned long value = 0;
  int overflow = 0, any = 0;
  for (int d; (d = digit_value(*p)) < base; p++) {
    any = 1;
    if (value > (ULONG_MAX - (unsigned long)d) / (unsigned long)base) overflow = 1;
    else value = value * (unsigned long)base + (unsigned long)d;
  }
  if (end) *end = (char *)(any ? p : s);
  if (overflow) return ULONG_MAX;
  return negative ? -value : value;
}
