/* SPDX-License-Identifier: MIT */
/* CBOR test vectors written as spaced hex ("a1 62 7263 00"), for the codec unit tests. */
#pragma once

#include <cbor.h>

/* Decodes through smp_cbor_decode(); NULL, and a failed CHECK, when the text is not hex or not CBOR. */
cbor_item_t *cbor_from_spaced_hex(const char *spaced);
