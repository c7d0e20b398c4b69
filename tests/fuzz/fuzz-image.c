/* SPDX-License-Identifier: MIT */
/* libFuzzer: an image file (binary or Intel HEX) from anywhere, parsed, its hash checked, and the
 * tamper and Intel HEX writers run over whatever parsed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise_parsed(uint8_t *bytes, size_t len, const Image *img)
{
	ImageVerdict v;
	char *text = NULL;
	size_t text_len = 0;

	image_verify(img, NULL, &v);
	if (image_hex_encode(bytes, img->size, 0, &text, &text_len) == 0)
		free(text);
	for (int what = IMAGE_TAMPER_HEADER; what <= IMAGE_TAMPER_SIGNATURE; what++)
		image_tamper(bytes, len, (ImageTamper)what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *bytes = NULL;
	size_t len = 0;
	char why[200];
	Image img;

	if (image_file_decode(data, size, &bytes, &len, why, sizeof(why)) < 0)
		return 0;
	if (image_parse(bytes, len, &img, why, sizeof(why)) == 0)
		exercise_parsed(bytes, len, &img);
	free(bytes);
	return 0;
}
