/* SPDX-License-Identifier: MIT */
/*
 * smpctl-mkimage: deterministic synthetic MCUboot images for tests, benchmarks and the demo. The
 * payload is a pseudo-random sequence from --seed; the image is built and signed as imgtool does
 * (image-sign.c). --tamper flips one bit after signing, to make images that must be rejected.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "util.h"

typedef struct Options {
	const char *output, *key, *tamper;
	size_t size;
	unsigned seed;
	ImageVersion version;
	uint16_t hash_type;
	bool hex, pad_sig, has_counter;
	uint32_t counter;
} Options;

static void usage(void)
{
	printf("Usage: smpctl-mkimage --output FILE [OPTIONS]\n\n"
	       "Writes a synthetic, signed MCUboot image (for tests and demos; the payload is not a program).\n\n"
	       "  --output FILE          where to write it\n"
	       "  --size N               payload bytes (default 65536)\n"
	       "  --seed N               payload pattern seed (default 1)\n"
	       "  --version X.Y.Z[+B]    image version (default 1.0.0)\n"
	       "  --key PEM              private key: RSA-2048/3072, EC P-256/P-384 or Ed25519 (default: unsigned)\n"
	       "  --hash sha256|sha384|sha512   hash TLV (default: SHA-384 for P-384 keys, else SHA-256)\n"
	       "  --security-counter N   add a protected security-counter TLV\n"
	       "  --pad-sig              pad ECDSA signatures to a fixed length (imgtool --pad-sig)\n"
	       "  --tamper WHAT          flip a bit after signing: header, payload, protected-tlv, signature\n"
	       "  --hex                  write Intel HEX instead of binary\n");
}

static int parse_version(const char *text, ImageVersion *v)
{
	unsigned a, b, c, build = 0;
	int n = sscanf(text, "%u.%u.%u+%u", &a, &b, &c, &build);

	if (n < 3 || a > 255 || b > 255 || c > 65535)
		return -EINVAL;
	*v = (ImageVersion){ (uint8_t)a, (uint8_t)b, (uint16_t)c, build };
	return 0;
}

static int parse(int argc, char **argv, Options *o)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' }, { "size", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' }, { "version", required_argument, NULL, 'v' },
		{ "key", required_argument, NULL, 'k' }, { "hash", required_argument, NULL, 'H' },
		{ "security-counter", required_argument, NULL, 'c' }, { "pad-sig", no_argument, NULL, 'p' },
		{ "tamper", required_argument, NULL, 't' }, { "hex", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' }, {}
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
		switch (c) {
		case 'o': o->output = optarg; break;
		case 's': o->size = strtoul(optarg, NULL, 0); break;
		case 'S': o->seed = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'v': if (parse_version(optarg, &o->version) < 0) return -EINVAL; break;
		case 'k': o->key = optarg; break;
		case 'H':
			o->hash_type = strcmp(optarg, "sha256") == 0 ? IMAGE_TLV_SHA256 : strcmp(optarg, "sha384") == 0 ?
				IMAGE_TLV_SHA384 : strcmp(optarg, "sha512") == 0 ? IMAGE_TLV_SHA512 : 0;
			if (!o->hash_type)
				return -EINVAL;
			break;
		case 'c': o->has_counter = true; o->counter = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'p': o->pad_sig = true; break;
		case 't': o->tamper = optarg; break;
		case 'x': o->hex = true; break;
		case 'h': usage(); return 1;
		default: return -EINVAL;
		}
	}
	return o->output && o->size > 0 && o->size <= 8u * 1024 * 1024 ? 0 : -EINVAL;
}

static void fill_payload(uint8_t *p, size_t n, unsigned seed)
{
	uint32_t x = 0x9e3779b9u ^ (seed * 2654435761u);

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

/* Flips one bit where --tamper says, after signing. */
static int tamper(uint8_t *img, size_t len, const char *what)
{
	Image parsed;
	size_t at;

	if (image_parse(img, len, &parsed, NULL, 0) < 0)
		return -EINVAL;
	if (strcmp(what, "header") == 0)
		at = 20; /* the version's major number */
	else if (strcmp(what, "payload") == 0)
		at = parsed.hdr_size + parsed.img_size / 2;
	else if (strcmp(what, "protected-tlv") == 0 && parsed.protect_tlv_size)
		at = (size_t)parsed.hdr_size + parsed.img_size + parsed.protect_tlv_size - 1;
	else if (strcmp(what, "signature") == 0 && parsed.tlv_count)
		at = parsed.tlvs[parsed.tlv_count - 1].offset + 8;
	else
		return -EINVAL;
	img[at] ^= 0x01;
	return 0;
}

static int write_hex(FILE *f, const uint8_t *data, size_t len)
{
	for (size_t off = 0; off < len; off += 16) {
		size_t n = MIN((size_t)16, len - off);
		unsigned sum;

		if (off % 0x10000 == 0) {
			sum = 2 + 4 + (unsigned)(off >> 24) + (unsigned)((off >> 16) & 0xff);
			fprintf(f, ":02000004%04X%02X\n", (unsigned)(off >> 16), (unsigned)(-sum & 0xff));
		}
		sum = (unsigned)n + (unsigned)((off >> 8) & 0xff) + (unsigned)(off & 0xff);
		fprintf(f, ":%02X%04X00", (unsigned)n, (unsigned)(off & 0xffff));
		for (size_t i = 0; i < n; i++) {
			fprintf(f, "%02X", data[off + i]);
			sum += data[off + i];
		}
		fprintf(f, "%02X\n", (unsigned)(-sum & 0xff));
	}
	fprintf(f, ":00000001FF\n");
	return ferror(f) ? -EIO : 0;
}

int main(int argc, char **argv)
{
	Options o = { .size = 65536, .seed = 1, .version = { 1, 0, 0, 0 } };
	_cleanup_free_ uint8_t *payload = NULL, *img = NULL;
	char why[256] = "";
	size_t len;
	FILE *f;
	int r = parse(argc, argv, &o);

	if (r)
		return r > 0 ? 0 : (fprintf(stderr, "smpctl-mkimage: bad arguments (see --help)\n"), 2);
	payload = malloc(o.size);
	if (!payload)
		return 1;
	fill_payload(payload, o.size, o.seed);
	r = image_sign(&(ImageSignSpec){ .payload = payload, .payload_len = o.size, .version = o.version,
					 .key_path = o.key, .hash_type = o.hash_type, .pad_sig = o.pad_sig,
					 .has_security_counter = o.has_counter, .security_counter = o.counter },
		       &img, &len, why, sizeof(why));
	if (r < 0)
		return fprintf(stderr, "smpctl-mkimage: %s\n", why[0] ? why : strerror(-r)), 1;
	if (o.tamper && tamper(img, len, o.tamper) < 0)
		return fprintf(stderr, "smpctl-mkimage: cannot tamper with '%s' in this image\n", o.tamper), 2;
	f = fopen(o.output, "wb");
	if (!f)
		return fprintf(stderr, "smpctl-mkimage: %s: %s\n", o.output, strerror(errno)), 1;
	r = o.hex ? write_hex(f, img, len) : (fwrite(img, 1, len, f) == len ? 0 : -EIO);
	if (fclose(f) != 0 || r < 0)
		return fprintf(stderr, "smpctl-mkimage: writing %s failed\n", o.output), 1;
	return 0;
}
