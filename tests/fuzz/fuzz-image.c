/* SPDX-License-Identifier: MIT */
/* libFuzzer: an image file (binary or Intel HEX) from anywhere, parsed and its hash checked. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *bytes = NULL;
	size_t len = 0;
	char why[200];
	ImageVerdict v;
	Image img;

	if (image_file_decode(data, size, &bytes, &len, why, sizeof(why)) < 0)
		return 0;
	if (image_parse(bytes, len, &img, why, sizeof(why)) == 0)
		image_verify(&img, NULL, &v);
	free(bytes);
	return 0;
}
