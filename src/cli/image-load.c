/* SPDX-License-Identifier: MIT */
/* Image files for upload and dfu: read, parse, verify before anything connects (DESIGN.md step 1). */
#include <errno.h>
#include <string.h>

#include "cli-image.h"
#include "cli-progress.h"
#include "util.h"

void loaded_image_clear(LoadedImage *img)
{
	free(img->data);
	*img = (LoadedImage){ 0 };
}

int cli_read_image(Cli *cli, const char *path, LoadedImage *out)
{
	char why[256] = "";
	int r;

	*out = (LoadedImage){ .path = path };
	r = image_load_file(path, &out->data, &out->size, why, sizeof(why));
	if (r < 0)
		return cli_fail(cli, EXIT_IMAGE, "cannot use %s as an image: %s (give the signed .bin or .hex file)",
				path, why);
	r = image_parse(out->data, out->size, &out->image, why, sizeof(why));
	if (r < 0)
		return cli_fail(cli, EXIT_IMAGE, "%s is not a valid MCUboot image: %s (sign it with imgtool)", path, why);
	image_version_format(&out->image.version, false, out->version, sizeof(out->version));
	return 0;
}

int cli_load_image(Cli *cli, const char *path, LoadedImage *out)
{
	int r = cli_read_image(cli, path, out);

	return r ? r : cli_check_image(cli, out);
}

int cli_check_image(Cli *cli, LoadedImage *out)
{
	const char *path = out->path;
	ImageVerdict v;
	int r;

	r = image_verify(&out->image, cli->key, &v);
	if (r < 0)
		return cli_fail(cli, EXIT_USAGE, "%s", v.why);
	/* An encrypted image's hash covers its plaintext: only the device, which holds the key, can check it.
	 * It is sent as mcumgr sends it; its signature, over that hash, is still checked with --key. */
	if (v.encrypted)
		cli_event(cli, "warning", "image", "%s is encrypted: its hash covers the plaintext, so MCUboot on the "
			  "device checks it, not smpctl", path);
	else if (!v.hash_ok)
		return cli_fail(cli, EXIT_VERIFY, "%s: %s; refusing to send it", path, v.why);
	if (cli->key && v.sig != IMAGE_SIG_OK)
		return cli_fail(cli, EXIT_VERIFY, "%s: %s; refusing to send it (check --key)", path,
				v.why[0] ? v.why : image_sig_state_name(v.sig));
	/* The hash proves an intact file, not whose: only the signature does, and MCUboot checks it only
	 * after the whole upload and a reset. */
	if (v.sig == IMAGE_SIG_UNCHECKED)
		cli_event(cli, "warning", "image", "the signature of %s was not checked: add --key with the public "
			  "key the device's MCUboot trusts (PEM) to check it before sending", path);
	out->signature_checked = cli->key != NULL;
	return 0;
}
