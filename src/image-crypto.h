/* SPDX-License-Identifier: MIT */
/* OpenSSL helpers shared by image-verify.c and image-sign.c (the only files that use OpenSSL). */
#pragma once

#include <openssl/evp.h>

#include "image.h"

const EVP_MD *image_md(uint16_t hash_type);
size_t image_signed_length(const Image *img);
/* A PEM or DER key, public or private; never prompts for a passphrase. NULL with why filled. */
EVP_PKEY *image_key_load(const char *path, char *why, size_t why_size);
/* The key as MCUboot embeds it (imgtool get_public_bytes): PKCS#1 RSAPublicKey for RSA,
 * SubjectPublicKeyInfo for EC and Ed25519. Returns the length and an OPENSSL_malloc'd buffer, or ≤ 0. */
int image_key_der(EVP_PKEY *key, uint8_t **der);
/* The signature TLV this key makes: RSA-2048/3072 PSS, ECDSA for P-256/P-384, Ed25519; 0 for any other
 * key (RSA-4096, secp256k1, …), which MCUboot does not verify. */
uint16_t image_key_sig_type(EVP_PKEY *key);
/* "P-384" style name of an EC key's curve, "" for other keys. */
const char *image_key_curve(EVP_PKEY *key);
