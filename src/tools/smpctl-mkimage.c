/* SPDX-License-Identifier: MIT */
/*
 * smpctl-mkimage: deterministic synthetic MCUboot images for tests, benchmarks and the demo. The
 * payload is a pseudo-random sequence from --seed (or a copy of --payload FILE); the image is built and
 * signed as imgtool does (image-sign.c). --tamper flips one bit after signing, to make images that must
 * be refused. Only the signatures vary between runs (RSA-PSS and ECDSA are randomised).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "util.h"

typedef struct Options {
	const char *output, *payload_path;
	size_t size;
	uint32_t seed, hex_addr;
	int tamper;            /* ImageTamper, or -1 */
	bool hex;
	ImageSignSpec spec;
} Options;

static void usage(void)
{
	printf("Usage: smpctl-mkimage --output FILE [OPTIONS]\n\n"
	       "Writes a synthetic, signed MCUboot image (for tests and demos; the payload is not a program).\n\n"
	       "  -o, --output FILE          where to write it\n"
	       "  -s, --size N               payload bytes (default 65536, at most 16 MiB)\n"
	       "      --seed N               payload pattern seed (default 1)\n"
	       "      --payload FILE         use FILE's bytes as the payload instead of a pattern\n"
	       "  -v, --version X[.Y[.Z[+B]]]  image version (default 1.0.0)\n"
	       "  -k, --key PEM              private key: RSA-2048/3072, EC P-256/P-384 or Ed25519\n"
	       "                             (default: unsigned, hash only)\n"
	       "      --hash sha256|sha384|sha512  hash TLV (default as imgtool: SHA-384 for P-384, SHA-512\n"
	       "                             for --pure, else SHA-256; Ed25519 also takes sha512)\n"
	       "      --pure                 Ed25519: sign the image itself and add SIG_PURE (imgtool --pure)\n"
	       "      --public-key-full      embed the key (PUBKEY) instead of its hash (KEYHASH)\n"
	       "      --security-counter N   add a protected security-counter TLV\n"
	       "      --pad-sig              pad ECDSA signatures to 72/103 bytes (imgtool --pad-sig)\n"
	       "  -H, --header-size N        header size (default 0x200, as Zephyr builds)\n"
	       "      --load-addr ADDR       the header's load address (default 0)\n"
	       "      --rom-fixed ADDR       load address ADDR and the ROM_FIXED flag: a direct-xip image that runs\n"
	       "                             only from the slot at ADDR (imgtool --rom-fixed)\n"
	       "      --tamper WHAT          flip a bit after signing: header, payload, protected-tlv, signature\n"
	       "      --hex                  write Intel HEX instead of binary\n"
	       "      --hex-addr ADDR        the Intel HEX file's start address (default 0)\n");
}

/* imgtool's version grammar: MAJOR[.MINOR[.REVISION[+BUILD]]], each a plain decimal number. */
static int parse_version(const char *text, ImageVersion *v)
{
	unsigned long part[4] = { 0 };
	const char *p = text;
	char *end;

	for (int i = 0; i < 4; i++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		errno = 0;
		part[i] = strtoul(p, &end, 10);
		if (errno || part[i] > (i < 2 ? 255ul : i == 2 ? 65535ul : 4294967295ul))
			return -EINVAL;
		p = end;
		if (*p == '\0')
			break;
		if (*p != (i < 2 ? '.' : '+') || i == 3)
			return -EINVAL;
		p++;
	}
	*v = (ImageVersion){ (uint8_t)part[0], (uint8_t)part[1], (uint16_t)part[2], (uint32_t)part[3] };
	return 0;
}

static int parse_number(const char *text, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_hash(const char *text, uint16_t *out)
{
	*out = strcmp(text, "sha256") == 0 ? IMAGE_TLV_SHA256 : strcmp(text, "sha384") == 0 ? IMAGE_TLV_SHA384
	     : strcmp(text, "sha512") == 0 ? IMAGE_TLV_SHA512 : 0;
	return *out ? 0 : -EINVAL;
}

enum { OPT_SEED = 256, OPT_PAYLOAD, OPT_HASH, OPT_PURE, OPT_PUBKEY, OPT_COUNTER, OPT_PAD_SIG, OPT_LOAD_ADDR, OPT_ROM_FIXED,
       OPT_TAMPER, OPT_HEX, OPT_HEX_ADDR };

static int parse_option(int c, const char *arg, Options *o)
{
	uint64_t n = 0;

	switch (c) {
	case 'o': o->output = arg; return 0;
	case 's': return parse_number(arg, IMAGE_FILE_MAX, &n) < 0 ? -EINVAL : (o->size = (size_t)n, 0);
	case OPT_SEED: return parse_number(arg, UINT32_MAX, &n) < 0 ? -EINVAL : (o->seed = (uint32_t)n, 0);
	case OPT_PAYLOAD: o->payload_path = arg; return 0;
	case 'v': return parse_version(arg, &o->spec.version);
	case 'k': o->spec.key_path = arg; return 0;
	case OPT_HASH: return parse_hash(arg, &o->spec.hash_type);
	case OPT_PURE: o->spec.pure = true; return 0;
	case OPT_PUBKEY: o->spec.embed_pubkey = true; return 0;
	case OPT_COUNTER:
		o->spec.has_security_counter = true;
		return parse_number(arg, UINT32_MAX, &n) < 0 ? -EINVAL : (o->spec.security_counter = (uint32_t)n, 0);
	case OPT_PAD_SIG: o->spec.pad_sig = true; return 0;
	case 'H':
		if (parse_number(arg, UINT16_MAX, &n) < 0 || n < IMAGE_HEADER_SIZE)
			return -EINVAL;
		o->spec.hdr_size = (uint16_t)n;
		return 0;
	case OPT_LOAD_ADDR:
		return parse_number(arg, UINT32_MAX, &n) < 0 ? -EINVAL : (o->spec.load_addr = (uint32_t)n, 0);
	case OPT_ROM_FIXED:
		o->spec.rom_fixed = true;
		return parse_number(arg, UINT32_MAX, &n) < 0 ? -EINVAL : (o->spec.load_addr = (uint32_t)n, 0);
	case OPT_TAMPER: o->tamper = image_tamper_from_string(arg); return o->tamper < 0 ? -EINVAL : 0;
	case OPT_HEX: o->hex = true; return 0;
	case OPT_HEX_ADDR: return parse_number(arg, UINT32_MAX, &n) < 0 ? -EINVAL : (o->hex_addr = (uint32_t)n, 0);
	default: return -EINVAL;
	}
}

static const char *option_name(const struct option *opts, int c)
{
	for (; opts->name; opts++)
		if (opts->val == c)
			return opts->name;
	return "?";
}

static int parse(int argc, char **argv, Options *o)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' }, { "size", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, OPT_SEED }, { "payload", required_argument, NULL, OPT_PAYLOAD },
		{ "version", required_argument, NULL, 'v' }, { "key", required_argument, NULL, 'k' },
		{ "hash", required_argument, NULL, OPT_HASH }, { "pure", no_argument, NULL, OPT_PURE },
		{ "public-key-full", no_argument, NULL, OPT_PUBKEY },
		{ "security-counter", required_argument, NULL, OPT_COUNTER },
		{ "pad-sig", no_argument, NULL, OPT_PAD_SIG }, { "header-size", required_argument, NULL, 'H' },
		{ "load-addr", required_argument, NULL, OPT_LOAD_ADDR },
		{ "rom-fixed", required_argument, NULL, OPT_ROM_FIXED },
		{ "tamper", required_argument, NULL, OPT_TAMPER },
		{ "hex", no_argument, NULL, OPT_HEX }, { "hex-addr", required_argument, NULL, OPT_HEX_ADDR },
		{ "help", no_argument, NULL, 'h' }, {}
	};
	int c;

	while ((c = getopt_long(argc, argv, "o:s:v:k:H:h", opts, NULL)) >= 0) {
		if (c == 'h') {
			usage();
			return 1;
		}
		if (parse_option(c, optarg, o) < 0) {
			if (c != '?')
				fprintf(stderr, "smpctl-mkimage: bad value for --%s: %s\n", option_name(opts, c),
					optarg);
			return -EINVAL;
		}
	}
	if (optind < argc || !o->output) {
		fprintf(stderr, "smpctl-mkimage: --output FILE is required, and nothing else (see --help)\n");
		return -EINVAL;
	}
	return 0;
}

/* xorshift32 from a mixed seed: the same seed gives the same payload on every machine. */
static void fill_payload(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = 0x9e3779b9u ^ (seed * 2654435761u);

	if (!x)
		x = 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static int make_payload(const Options *o, uint8_t **payload, size_t *len)
{
	int r;

	if (o->payload_path) {
		r = read_file_bounded(o->payload_path, IMAGE_FILE_MAX, payload, len);
		if (r < 0)
			fprintf(stderr, "smpctl-mkimage: %s: %s\n", o->payload_path, strerror(-r));
		return r;
	}
	*payload = malloc(o->size ? o->size : 1);
	if (!*payload)
		return -ENOMEM;
	fill_payload(*payload, o->size, o->seed);
	*len = o->size;
	return 0;
}

static int write_output(const Options *o, const uint8_t *img, size_t len)
{
	_cleanup_free_ char *text = NULL;
	size_t text_len = 0;
	FILE *f;
	int r = 0;

	if (o->hex) {
		r = image_hex_encode(img, len, o->hex_addr, &text, &text_len);
		if (r < 0) {
			fprintf(stderr, "smpctl-mkimage: the image does not fit below 4 GiB at --hex-addr\n");
			return r;
		}
	}
	f = fopen(o->output, "wb");
	if (!f) {
		fprintf(stderr, "smpctl-mkimage: %s: %s\n", o->output, strerror(errno));
		return -errno;
	}
	if (o->hex ? fwrite(text, 1, text_len, f) != text_len : fwrite(img, 1, len, f) != len)
		r = -EIO;
	if (fclose(f) != 0 || r < 0) {
		fprintf(stderr, "smpctl-mkimage: writing %s failed\n", o->output);
		return -EIO;
	}
	return 0;
}

int main(int argc, char **argv)
{
	Options o = { .size = 65536, .seed = 1, .tamper = -1, .spec.version = { 1, 0, 0, 0 } };
	_cleanup_free_ uint8_t *payload = NULL, *img = NULL;
	char why[256] = "";
	size_t len = 0;
	int r = parse(argc, argv, &o);

	if (r)
		return r > 0 ? 0 : 2;
	if (make_payload(&o, &payload, &o.spec.payload_len) < 0)
		return 1;
	o.spec.payload = payload;
	r = image_sign(&o.spec, &img, &len, why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "smpctl-mkimage: %s\n", why[0] ? why : strerror(-r));
		return r == -EINVAL ? 2 : 1;
	}
	if (o.tamper >= 0 && image_tamper(img, len, (ImageTamper)o.tamper) < 0) {
		fprintf(stderr, "smpctl-mkimage: this image has no part to tamper with for --tamper (unsigned, or "
				"no protected TLVs?)\n");
		return 2;
	}
	return write_output(&o, img, len) < 0 ? 1 : 0;
}
