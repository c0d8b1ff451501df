/* Freestanding <stdlib.h> for mbedTLS in the RMM. mbedTLS includes it for calloc/free,
 * which this configuration routes to the arena (MBEDTLS_PLATFORM_{CALLOC,FREE}_MACRO),
 * so nothing needs declaring. */
#ifndef RMM_LIBC_STDLIB_H
#define RMM_LIBC_STDLIB_H
#include <stddef.h>
#endif
