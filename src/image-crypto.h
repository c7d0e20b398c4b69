/* SPDX-License-Identifier: MIT */
/* OpenSSL helpers shared by image-verify.c and image-sign.c (the only files that use OpenSSL). */
#pragma once

#include <openssl/evp.h>

#include "image.h"

const EVP_MD *image_md(uint16_t hash_type);
size_t image_signed_length(const Image *img);
EVP_PKEY *image_key_load(const char *path, char *why, size_t why_size);
int image_key_der(EVP_PKEY *key, uint8_t **der);
