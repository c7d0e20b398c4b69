/* SPDX-License-Identifier: MIT */
/* image info FILE [--key PEM]: what an MCUboot image holds and whether it verifies; no device needed. */
#include <string.h>

#include "cli-image.h"
#include "util.h"

static const char *hash_name(uint16_t t)
{
	return t == IMAGE_TLV_SHA384 ? "sha384" : t == IMAGE_TLV_SHA512 ? "sha512" : "sha256";
}

static bool verdict_ok(const Cli *cli, const ImageVerdict *v)
{
	return (v->hash_ok || v->encrypted) && (!cli->key || v->sig == IMAGE_SIG_OK);
}

static void info_json(Cli *cli, const LoadedImage *img, const ImageVerdict *v)
{
	JsonWriter *j = &cli->json_out;
	const Image *m = &img->image;

	json_begin_object(j);
	json_key(j, "file"); json_string(j, img->path);
	json_key(j, "file_size"); json_uint(j, img->size);
	json_key(j, "version"); json_string(j, img->version);
	json_key(j, "load_addr"); json_uint(j, m->load_addr);
	json_key(j, "header_size"); json_uint(j, m->hdr_size);
	json_key(j, "image_size"); json_uint(j, m->img_size);
	json_key(j, "protected_tlv_size"); json_uint(j, m->protect_tlv_size);
	json_key(j, "flags"); json_uint(j, m->flags);
	json_key(j, "hash_type"); json_string(j, hash_name(m->hash_type));
	json_key(j, "hash"); json_hex(j, m->hash, m->hash_len);
	json_key(j, "hash_ok"); json_bool(j, v->hash_ok);
	json_key(j, "encrypted"); json_bool(j, v->encrypted);
	json_key(j, "signature");
	json_begin_object(j);
	json_key(j, "type");
	if (v->sig_type)
		json_string(j, image_sig_type_name(v->sig_type));
	else
		json_null(j);
	json_key(j, "state"); json_string(j, image_sig_state_name(v->sig));
	json_end_object(j);
	json_key(j, "tlvs");
	json_begin_array(j);
	for (size_t i = 0; i < m->tlv_count; i++) {
		const char *name = image_tlv_name(m->tlvs[i].type);

		json_begin_object(j);
		json_key(j, "type"); json_uint(j, m->tlvs[i].type);
		json_key(j, "name"); name ? json_string(j, name) : json_null(j);
		json_key(j, "len"); json_uint(j, m->tlvs[i].len);
		json_key(j, "protected"); json_bool(j, m->tlvs[i].protected_area);
		json_end_object(j);
	}
	json_end_array(j);
	json_key(j, "ok"); json_bool(j, verdict_ok(cli, v));
	if (!verdict_ok(cli, v)) {
		json_key(j, "error"); json_string(j, v->why);
	}
	json_end_object(j);
	json_end_line(j);
}

static void info_text(Cli *cli, const LoadedImage *img, const ImageVerdict *v)
{
	const Image *m = &img->image;
	char hash[2 * IMAGE_HASH_MAX + 1];

	printf("File:        %s (%zu bytes)\n", img->path, img->size);
	printf("Version:     %s\n", img->version);
	printf("Layout:      header %u, payload %u, protected TLVs %u bytes; load address 0x%08x, flags 0x%x\n",
	       m->hdr_size, m->img_size, m->protect_tlv_size, m->load_addr, m->flags);
	printf("Hash:        %s %s (%s)\n", hash_name(m->hash_type), hex_encode(m->hash, m->hash_len, hash),
	       v->encrypted ? "of the plaintext: the image is encrypted, only the device can check it"
	       : v->hash_ok ? "matches the contents" : "DOES NOT MATCH the contents");
	printf("Signature:   %s: %s\n", v->sig_type ? image_sig_type_name(v->sig_type) : "none",
	       v->sig == IMAGE_SIG_UNCHECKED ? "not checked (give --key PUB.pem)" : image_sig_state_name(v->sig));
	printf("TLVs:       ");
	for (size_t i = 0; i < m->tlv_count; i++) {
		const char *name = image_tlv_name(m->tlvs[i].type);

		if (name)
			printf(" %s%s", name, m->tlvs[i].protected_area ? "(protected)" : "");
		else
			printf(" 0x%02x%s", m->tlvs[i].type, m->tlvs[i].protected_area ? "(protected)" : "");
	}
	printf("\nVerdict:     %s\n", verdict_ok(cli, v) ? "OK" : v->why);
}

int cmd_image_info(Cli *cli)
{
	_cleanup_(loaded_image_clear) LoadedImage img = { 0 };
	ImageVerdict v;
	int r = cli_read_image(cli, cli->args[0], &img);

	if (r)
		return r;
	r = image_verify(&img.image, cli->key, &v);
	if (r < 0)
		return cli_fail(cli, EXIT_USAGE, "%s", v.why);
	if (cli->json)
		info_json(cli, &img, &v);
	else
		info_text(cli, &img, &v);
	return verdict_ok(cli, &v) ? EXIT_OK : EXIT_VERIFY;
}
