/* SPDX-License-Identifier: MIT */
/* Test vectors written as spaced hex ("a1 62 7263 00"), for the codec unit tests. */
#pragma once

#include <cbor.h>
#include <stddef.h>
#include <stdint.h>

/* The bytes, into out; returns their count: 0 for "", and 0 with a failed CHECK for bad hex. */
size_t bytes_from_spaced_hex(const char *spaced, uint8_t *out, size_t size);

/* Decodes through smp_cbor_decode(); NULL, and a failed CHECK, when the text is not hex or not CBOR. */
cbor_item_t *cbor_from_spaced_hex(const char *spaced);
