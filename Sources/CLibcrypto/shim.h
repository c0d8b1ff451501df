// OpenSSL 3 libcrypto, as much as the CCA token verifier needs: ECDSA P-384 (ES384)
// through EVP, keys built from raw coordinates, SHA-2 digests.
#ifndef CLIBCRYPTO_SHIM_H
#define CLIBCRYPTO_SHIM_H

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

// The key-selection macros are built from other macros, which Swift does not import.
static inline int clibcrypto_select_public_key(void) { return EVP_PKEY_PUBLIC_KEY; }
static inline int clibcrypto_select_key_pair(void) { return EVP_PKEY_KEYPAIR; }

// OSSL_PARAM_BLD keeps the parameter names by reference, so they must be C string
// constants, not the temporary copies Swift passes for a String.
static inline const char *clibcrypto_param_group_name(void) { return OSSL_PKEY_PARAM_GROUP_NAME; }
static inline const char *clibcrypto_param_public_key(void) { return OSSL_PKEY_PARAM_PUB_KEY; }
static inline const char *clibcrypto_param_private_key(void) { return OSSL_PKEY_PARAM_PRIV_KEY; }

#endif
