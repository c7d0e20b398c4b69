/* SPDX-License-Identifier: MIT */
/* libFuzzer: an nRF Connect SDK package (dfu_application.zip) from anywhere: the zip reader, the package
 * checks behind it, and the same bytes as manifest.json text for the JSON reader. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dfu-package.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ZipArchive zip;
	static DfuPackage pkg;
	char why[320];

	if (zip_archive_parse(data, size, &zip, why, sizeof(why)) == 0)
		(void)zip_archive_find(&zip, "manifest.json");
	(void)dfu_package_parse(data, size, &pkg, why, sizeof(why));
	(void)dfu_manifest_parse((const char *)data, size, &pkg, why, sizeof(why));
	return 0;
}
