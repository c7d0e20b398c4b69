/* SPDX-License-Identifier: MIT */
/* dfu_application.zip: the zip reader, the manifest reader and the checks that refuse a package whose
 * manifest and images disagree. Packages are built here by a small stored-zip writer (so that each can be
 * broken in one way), and one committed package comes from tests/tools/mk-ncs-zip.py, the generator the
 * integration tests use. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfu-package.h"
#include "fs-transfer.h"
#include "image.h"
#include "tap.h"
#include "util.h"

#define ZIP_CAP (64 * 1024)

typedef struct Member {
	const char *name;
	const void *data;
	size_t len;
	uint16_t method;
	bool bad_crc;
} Member;

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	return put16(p + 2, (uint16_t)(v >> 16));
}

/* A stored zip as Python's ZipFile writes one (APPNOTE.TXT 4.3): local headers and data, the central
 * directory, the end record. */
static size_t zip_build(uint8_t *out, const Member *m, size_t n)
{
	uint32_t offsets[16], cd_size;
	uint8_t *p = out, *cd;

	for (size_t i = 0; i < n; i++) {
		uint16_t name_len = (uint16_t)strlen(m[i].name);
		uint32_t crc = fs_crc32(m[i].data, m[i].len) ^ (m[i].bad_crc ? 1u : 0u);

		offsets[i] = (uint32_t)(p - out);
		p = put32(p, 0x04034b50);
		p = put16(put16(put16(p, 20), 0), m[i].method);
		p = put32(put32(put32(put32(p, 0), crc), (uint32_t)m[i].len), (uint32_t)m[i].len);
		p = put16(put16(p, name_len), 0);
		memcpy(p, m[i].name, name_len);
		p += name_len;
		memcpy(p, m[i].data, m[i].len);
		p += m[i].len;
	}
	cd = p;
	for (size_t i = 0; i < n; i++) {
		uint16_t name_len = (uint16_t)strlen(m[i].name);
		uint32_t crc = fs_crc32(m[i].data, m[i].len) ^ (m[i].bad_crc ? 1u : 0u);

		p = put32(p, 0x02014b50);
		p = put16(put16(put16(put16(p, 20), 20), 0), m[i].method);
		p = put32(put32(put32(put32(p, 0), crc), (uint32_t)m[i].len), (uint32_t)m[i].len);
		p = put16(put16(put16(put16(put16(p, name_len), 0), 0), 0), 0);
		p = put32(put32(p, 0), offsets[i]);
		memcpy(p, m[i].name, name_len);
		p += name_len;
	}
	cd_size = (uint32_t)(p - cd);
	p = put32(p, 0x06054b50);
	p = put16(put16(put16(put16(p, 0), 0), (uint16_t)n), (uint16_t)n);
	p = put32(put32(p, cd_size), (uint32_t)(cd - out));
	p = put16(p, 0);
	return (size_t)(p - out);
}

/* An unsigned (hash-only) image of version major.0.0 with len payload bytes; owned by the caller. */
static uint8_t *image_of(uint8_t major, size_t payload_len, size_t *len)
{
	uint8_t *payload = calloc(1, payload_len), *out = NULL;
	ImageSignSpec spec = { .payload = payload, .payload_len = payload_len, .version = { major, 0, 0, 0 } };
	char why[200];

	for (size_t i = 0; i < payload_len; i++)
		payload[i] = (uint8_t)(i * 13 + major);
	CHECK_INT(image_sign(&spec, &out, len, why, sizeof(why)), 0);
	free(payload);
	return out;
}

typedef struct Fixture {
	uint8_t *app, *net;
	size_t app_len, net_len;
	char manifest[2048];
	uint8_t zip[ZIP_CAP];
	size_t zip_len;
} Fixture;

/* The manifest NCS writes for an application and a network core (zip.cmake's keys), sizes filled in;
 * app_extra and net_extra replace or add keys. */
static void fixture_manifest(Fixture *f, const char *app_extra, const char *net_extra)
{
	snprintf(f->manifest, sizeof(f->manifest),
		 "{\n    \"format-version\": 1,\n    \"time\": 1700000000,\n    \"files\": [\n"
		 "        {\"type\": \"application\", \"board\": \"nrf5340dk/nrf5340/cpuapp\", \"soc\": \"nrf5340\", "
		 "\"load_address\": 33280, \"image_index\": \"0\", \"slot_index_primary\": \"1\", "
		 "\"slot_index_secondary\": \"2\", \"version_MCUBOOT\": \"2.0.0+0\", \"size\": %zu, "
		 "\"file\": \"app.bin\", \"modtime\": 1700000000%s},\n"
		 "        {\"type\": \"application\", \"board\": \"nrf5340dk/nrf5340/cpunet\", \"soc\": \"nrf5340\", "
		 "\"image_index\": \"1\", \"slot_index_primary\": \"3\", \"slot_index_secondary\": \"4\", "
		 "\"load_address\": 16777216, \"version\": \"1\", \"size\": %zu, \"file\": \"net.bin\", "
		 "\"modtime\": 1700000000%s}\n    ],\n    \"name\": \"peripheral_lbs\",\n"
		 "    \"firmware\": {\"zephyr\": {\"revision\": \"abc\"}, \"nrf\": {\"revision\": null}}\n}",
		 f->app_len, app_extra, f->net_len, net_extra);
}

static void fixture_zip(Fixture *f)
{
	Member m[] = {
		{ "app.bin", f->app, f->app_len },
		{ "net.bin", f->net, f->net_len },
		{ "manifest.json", f->manifest, strlen(f->manifest) },
	};

	f->zip_len = zip_build(f->zip, m, ARRAY_SIZE(m));
}

static Fixture *fixture_new(void)
{
	Fixture *f = calloc(1, sizeof(*f));

	f->app = image_of(2, 3000, &f->app_len);
	f->net = image_of(1, 2000, &f->net_len);
	fixture_manifest(f, "", "");
	fixture_zip(f);
	return f;
}

static void fixture_free(Fixture *f)
{
	free(f->app);
	free(f->net);
	free(f);
}

/* An application and a network core as NCS packs them: both found, their fields read, bytes matched. */
static void test_app_and_net_core(void)
{
	Fixture *f = fixture_new();
	DfuPackage p;
	char why[320] = "";

	CHECK(dfu_package_is_zip(f->zip, f->zip_len));
	CHECK_INT(dfu_package_parse(f->zip, f->zip_len, &p, why, sizeof(why)), 0);
	CHECK_STR(why, "");
	CHECK_INT(p.count, 2);
	CHECK_STR(p.name, "peripheral_lbs");
	CHECK_INT(p.format_version, 1);
	CHECK(!p.direct_xip);
	CHECK_STR(p.files[0].file, "app.bin");
	CHECK_INT(p.files[0].image_index, 0);
	CHECK_INT(p.files[0].slot_index_secondary, 2);
	CHECK_INT(p.files[0].load_address, 0x8200);
	CHECK_STR(p.files[0].version_mcuboot, "2.0.0+0");
	CHECK_STR(p.files[1].board, "nrf5340dk/nrf5340/cpunet");
	CHECK_INT(p.files[1].image_index, 1);
	CHECK_STR(p.files[1].version_mcuboot, "");
	CHECK_INT(p.files[1].data_len, f->net_len);
	CHECK(p.files[1].data && memcmp(p.files[1].data, f->net, f->net_len) == 0);
	fixture_free(f);
}

/* Each way a manifest can disagree with its images is refused, naming what. */
static void test_disagreements_refused(void)
{
	static const struct { const char *app, *net, *why; } cases[] = {
		{ ", \"size\": 12", "", "app.bin is " },
		{ ", \"version_MCUBOOT\": \"2.0.1\"", "", "app.bin is version 2.0.0+0 but manifest.json says 2.0.1" },
		{ "", ", \"image_index\": \"0\"", "the same image_index 0" },
		{ "", ", \"file\": \"cpunet.bin\"", "lists cpunet.bin, which the zip does not hold" },
		{ ", \"image_index\": \"x\"", "", "\"image_index\" is \"x\"" },
		{ ", \"image_index\": \"9\"", "", "no usable \"image_index\"" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		Fixture *f = fixture_new();
		DfuPackage p;
		char why[320] = "";

		fixture_manifest(f, cases[i].app, cases[i].net);
		fixture_zip(f);
		CHECK_INT(dfu_package_parse(f->zip, f->zip_len, &p, why, sizeof(why)), -EBADMSG);
		tap_checkf(strstr(why, cases[i].why) != NULL, __FILE__, __LINE__, "case %zu: '%s' in '%s'", i,
			   cases[i].why, why);
		fixture_free(f);
	}
}

/* A member that is not an MCUboot image, or one whose hash TLV does not match its bytes. */
static void test_images_checked(void)
{
	Fixture *f = fixture_new();
	DfuPackage p;
	char why[320] = "";

	CHECK_INT(image_tamper(f->net, f->net_len, IMAGE_TAMPER_PAYLOAD), 0);
	fixture_zip(f);
	CHECK_INT(dfu_package_parse(f->zip, f->zip_len, &p, why, sizeof(why)), -EBADMSG);
	CHECK(strncmp(why, "net.bin: ", 9) == 0);
	f->app[0] ^= 0xff; /* the magic */
	fixture_zip(f);
	CHECK_INT(dfu_package_parse(f->zip, f->zip_len, &p, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "app.bin is not an MCUboot image") != NULL);
	fixture_free(f);
}

/* The zip itself: compressed, damaged, climbing out, duplicated, without a manifest, cut short. */
static void test_zip_refusals(void)
{
	static const char text[] = "{\"files\": []}";
	static const struct { Member m; const char *why; } cases[] = {
		{ { "app.bin", text, sizeof(text), 8, false }, "is compressed (method 8)" },
		{ { "app.bin", text, sizeof(text), 0, true }, "CRC-32 does not match" },
		{ { "../app.bin", text, sizeof(text), 0, false }, "climbs out with '..'" },
		{ { "a/../../app.bin", text, sizeof(text), 0, false }, "climbs out with '..'" },
		{ { "/etc/app.bin", text, sizeof(text), 0, false }, "is absolute" },
		{ { "a\\app.bin", text, sizeof(text), 0, false }, "not printable" },
	};
	uint8_t *zip = malloc(ZIP_CAP);
	ZipArchive *a = malloc(sizeof(*a));
	DfuPackage p;
	char why[320];
	size_t len;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		len = zip_build(zip, &cases[i].m, 1);
		why[0] = '\0';
		CHECK_INT(zip_archive_parse(zip, len, a, why, sizeof(why)), -EBADMSG);
		tap_checkf(strstr(why, cases[i].why) != NULL, __FILE__, __LINE__, "case %zu: '%s'", i, why);
	}
	{
		Member twice[] = { { "a.bin", text, 3, 0, false }, { "a.bin", text, 3, 0, false } };

		len = zip_build(zip, twice, 2);
		CHECK_INT(zip_archive_parse(zip, len, a, why, sizeof(why)), -EBADMSG);
		CHECK(strstr(why, "there twice") != NULL);
	}
	len = zip_build(zip, &(Member){ "app.bin", text, sizeof(text) }, 1);
	CHECK_INT(zip_archive_parse(zip, len, a, why, sizeof(why)), 0);
	CHECK_INT(dfu_package_parse(zip, len, &p, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "no manifest.json") != NULL);
	/* Every shorter prefix: refused, never read past. */
	for (size_t cut = 0; cut < len; cut++)
		CHECK_INT(zip_archive_parse(zip, cut, a, why, sizeof(why)), -EBADMSG);
	free(a);
	free(zip);
}

/* The manifest reader: what it needs, bounded; anything else ignored or refused in one line. */
static void test_manifest(void)
{
	static const struct { const char *text; int r; const char *why; } cases[] = {
		{ "{\"files\": [{\"file\": \"a.bin\", \"image_index\": 1, \"size\": 10}]}", 0, "" },
		{ "{\"files\": [{\"file\": \"a\\u0062.bin\", \"x\": [1, {\"y\": true}], \"z\": null}]}", 0, "" },
		{ "{\"files\": []}", -EBADMSG, "lists no \"files\"" },
		{ "{\"name\": \"x\"}", -EBADMSG, "lists no \"files\"" },
		{ "[]", -EBADMSG, "not a JSON object" },
		{ "{\"files\": [{\"file\": \"a.bin\"}]} x", -EBADMSG, "text after the object" },
		{ "{\"files\": [{\"file\": \"a.bin\"", -EBADMSG, "'}' expected" },
		{ "{\"files\": [{\"file\": \"a.bin}]}", -EBADMSG, "unterminated string" },
		{ "{\"files\": [{\"size\": -3}]}", -EBADMSG, "not a non-negative integer" },
		{ "{\"x\": [[[[[[[[[[[[1]]]]]]]]]]]], \"files\": [{}]}", -EBADMSG, "nested deeper" },
		{ "{\"files\": [{\"file\": \"a\\q\"}]}", -EBADMSG, "bad escape" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		DfuPackage p;
		char why[320] = "";

		CHECK_INT(dfu_manifest_parse(cases[i].text, strlen(cases[i].text), &p, why, sizeof(why)), cases[i].r);
		tap_checkf(strstr(why, cases[i].why) != NULL, __FILE__, __LINE__, "case %zu: '%s' in '%s'", i,
			   cases[i].why, why);
	}
	{
		DfuPackage p;
		const char *t = "{\"files\": [{\"file\": \"a\\u0062.bin\", \"image_index\": \"0x1\"}]}";

		CHECK_INT(dfu_manifest_parse(t, strlen(t), &p, NULL, 0), 0);
		CHECK_STR(p.files[0].file, "ab.bin");
		CHECK_INT(p.files[0].image_index, 1);
		CHECK_INT(p.files[0].size, -1);
	}
}

/* Direct-xip: two variants of image 0, one per slot, share the image_index. */
static void test_direct_xip_variants(void)
{
	const char *t = "{\"files\": [{\"file\": \"a.bin\", \"image_index\": \"0\", \"slot\": \"0\", "
			"\"version_MCUBOOT+XIP\": \"1.0.0\"}, {\"file\": \"b.bin\", \"image_index\": \"0\", \"slot\": \"1\"}]}";
	DfuPackage p;

	CHECK_INT(dfu_manifest_parse(t, strlen(t), &p, NULL, 0), 0);
	CHECK(p.direct_xip);
	CHECK_STR(p.files[0].version_mcuboot, "1.0.0");
	CHECK_INT(p.files[1].slot, 1);
}

/* A direct-xip variant: version major.0.0, signed with imgtool --rom-fixed addr; owned by the caller. */
static uint8_t *xip_image(uint8_t major, uint32_t addr, uint8_t fill, size_t *len)
{
	uint8_t payload[3000], *out = NULL;
	ImageSignSpec spec = { .payload = payload, .payload_len = sizeof(payload), .version = { major, 0, 0, 0 },
			       .load_addr = addr, .rom_fixed = true };

	memset(payload, fill, sizeof(payload)); /* two builds differ in more than their address */
	CHECK_INT(image_sign(&spec, &out, len, NULL, 0), 0);
	return out;
}

/* A direct-xip package of a.bin (slot a_slot) and b.bin (slot 1) as zip.cmake lists them, parsed. */
static int xip_parse(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len, const char *a_slot,
		     DfuPackage *p, char *why, size_t why_size)
{
	static uint8_t zip[ZIP_CAP];
	char manifest[1024];
	Member m[3];

	snprintf(manifest, sizeof(manifest), "{\"format-version\": 1, \"files\": ["
		 "{\"load_address\": 49664, \"version_MCUBOOT+XIP\": \"2.0.0\", \"image_index\": \"0\", "
		 "\"slot\": \"%s\", \"size\": %zu, \"file\": \"a.bin\"}, "
		 "{\"load_address\": 274944, \"image_index\": \"0\", \"slot\": \"1\", "
		 "\"version_MCUBOOT+XIP\": \"2.0.0\", \"size\": %zu, \"file\": \"b.bin\"}]}", a_slot, a_len, b_len);
	m[0] = (Member){ .name = "a.bin", .data = a, .len = a_len };
	m[1] = (Member){ .name = "b.bin", .data = b, .len = b_len };
	m[2] = (Member){ .name = "manifest.json", .data = manifest, .len = strlen(manifest) };
	return dfu_package_parse(zip, zip_build(zip, m, 3), p, why, why_size);
}

/* A direct-xip package: both variants read, each with its slot; variants that disagree are refused. */
static void test_direct_xip_package(void)
{
	size_t n0, n1, n2, n3;
	uint8_t *v0 = xip_image(2, 0xc000, 1, &n0), *v1 = xip_image(2, 0x43000, 2, &n1);
	uint8_t *old = xip_image(1, 0x43000, 2, &n2), *same_addr = xip_image(2, 0xc000, 2, &n3);
	DfuPackage p;
	char why[320] = "";

	CHECK_INT(xip_parse(v0, n0, v1, n1, "0", &p, why, sizeof(why)), 0);
	CHECK(p.direct_xip && p.count == 2);
	CHECK(p.files[0].slot == 0 && p.files[1].slot == 1 && p.files[0].data_len == n0 && p.files[1].data_len == n1);
	CHECK_INT(xip_parse(v0, n0, old, n2, "0", &p, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "b.bin is version 1.0.0+0 but manifest.json says 2.0.0") != NULL);
	CHECK_INT(xip_parse(v0, n0, same_addr, n3, "0", &p, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "are both linked for address 0xc000") != NULL);
	CHECK_INT(xip_parse(v0, n0, v0, n0, "0", &p, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "are the same image") != NULL);
	CHECK_INT(xip_parse(v0, n0, v1, n1, "2", &p, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "\"slot\" 2, which is not one of image 0's (0 or 1)") != NULL);
	CHECK_INT(xip_parse(v0, n0, v1, n1, "1", &p, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "the same image_index 0") != NULL);
	free(v0);
	free(v1);
	free(old);
	free(same_addr);
}

/* One variant only: the device may run the slot it is linked for. */
static void test_direct_xip_needs_both(void)
{
	static uint8_t zip[ZIP_CAP];
	size_t n;
	uint8_t *v1 = xip_image(2, 0x43000, 2, &n);
	char manifest[512], why[320] = "";
	DfuPackage p;
	Member m[2];

	snprintf(manifest, sizeof(manifest), "{\"files\": [{\"image_index\": \"0\", \"slot\": \"1\", \"size\": %zu, "
		 "\"file\": \"b.bin\"}]}", n);
	m[0] = (Member){ .name = "b.bin", .data = v1, .len = n };
	m[1] = (Member){ .name = "manifest.json", .data = manifest, .len = strlen(manifest) };
	CHECK_INT(dfu_package_parse(zip, zip_build(zip, m, 2), &p, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "b.bin is a direct-xip variant for slot 1 only") != NULL);
	free(v1);
}

/* A committed package of tests/vectors, parsed into p; the caller frees what it returns (p points into it). */
static uint8_t *vector_package(const char *name, DfuPackage *p)
{
	char path[256], why[320] = "";
	uint8_t *buf = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/%s", SMPCTL_TEST_VECTORS, name);
	CHECK_INT(image_file_read(path, DFU_PACKAGE_FILE_MAX, &buf, &len, why, sizeof(why)), 0);
	CHECK_INT(dfu_package_parse(buf, len, p, why, sizeof(why)), 0);
	CHECK_STR(why, "");
	return buf;
}

/* The generator's own output (tests/tools/mk-ncs-zip.py, committed): the reader takes it whole. */
static void test_generator_output(void)
{
	DfuPackage p;
	uint8_t *buf = vector_package("ncs-app-net.zip", &p);

	CHECK_INT(p.count, 2);
	CHECK_STR(p.files[0].file, "app.bin");
	CHECK_STR(p.files[1].file, "net.bin");
	CHECK_INT(p.files[1].image_index, 1);
	free(buf);
}

/* The generator's direct-xip package (mk-ncs-zip.py --direct-xip, committed): both variants, one per slot,
 * signed for the slot addresses of smpctl-sim --direct-xip. */
static void test_generator_direct_xip(void)
{
	DfuPackage p;
	uint8_t *buf = vector_package("ncs-direct-xip.zip", &p);
	Image img;

	CHECK(p.direct_xip && p.count == 2);
	CHECK_STR(p.files[0].file, "app.signed.bin");
	CHECK_STR(p.files[1].file, "mcuboot_secondary_app.signed.bin");
	CHECK(p.files[0].slot == 0 && p.files[1].slot == 1 && p.files[1].image_index == 0);
	CHECK_STR(p.files[1].version_mcuboot, "2.0.0");
	CHECK_INT(image_parse(p.files[1].data, p.files[1].data_len, &img, NULL, 0), 0);
	CHECK(img.flags & IMAGE_F_ROM_FIXED);
	CHECK_INT(img.load_addr, 0x43000);
	free(buf);
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_app_and_net_core),
		TAP_TEST(test_disagreements_refused),
		TAP_TEST(test_images_checked),
		TAP_TEST(test_zip_refusals),
		TAP_TEST(test_manifest),
		TAP_TEST(test_direct_xip_variants),
		TAP_TEST(test_direct_xip_package),
		TAP_TEST(test_direct_xip_needs_both),
		TAP_TEST(test_generator_output),
		TAP_TEST(test_generator_direct_xip),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
