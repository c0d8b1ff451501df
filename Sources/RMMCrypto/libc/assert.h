/* Freestanding <assert.h> for mbedTLS in the RMM. mbedTLS only needs static_assert
 * (through MBEDTLS_STATIC_ASSERT); there is deliberately no runtime assert(). */
#ifndef RMM_LIBC_ASSERT_H
#define RMM_LIBC_ASSERT_H
#if !defined(__cplusplus) && __STDC_VERSION__ >= 201112L && __STDC_VERSION__ < 202311L
#define static_assert _Static_assert
#endif
#endif
