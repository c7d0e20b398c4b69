/* SPDX-License-Identifier: MIT */
/* Device errors: v1 rc, v2 err{group, rc}, rsn, wrong types; names, plain words and advice. */
#include <errno.h>
#include <string.h>

#include "smp-cbor.h"
#include "smp-error.h"
#include "smp.h"
#include "tap.h"
#include "util.h"

typedef struct StatusCase {
	const char *what;
	const char *hex;
	int want_r;
	SmpStatusKind kind;
	uint16_t group;
	int32_t rc;
} StatusCase;

/* Each response form decodes to its status. */
static void test_status_table(void)
{
	static const StatusCase cases[] = {
		{ "empty map is success", "bfff", 0, SMP_STATUS_OK, 0, 0 },
		{ "legacy rc 0 is success", "a1627263 00", 0, SMP_STATUS_OK, 0, 0 },
		{ "rc 8", "bf627263 08ff", 0, SMP_STATUS_RC, 0, 8 },
		{ "v2 image error", "bf63657272bf6567726f75700162726317ffff", 0, SMP_STATUS_GROUP, 1, 23 },
		{ "stat error under group 63", "a163657272a26567726f7570183f6272630 2", 0, SMP_STATUS_GROUP, 63, 2 },
		{ "rc as text", "a16272636138", -EBADMSG, SMP_STATUS_OK, 0, 0 },
		{ "err without rc", "a163657272a16567726f757001", -EBADMSG, SMP_STATUS_OK, 0, 0 },
		{ "not a map", "80", -EBADMSG, SMP_STATUS_OK, 0, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char clean[128] = "";
		uint8_t buf[64];
		cbor_item_t *m = NULL;
		SmpStatus st;
		int n, r;

		for (const char *c = cases[i].hex; *c; c++)
			if (*c != ' ')
				strncat(clean, c, 1);
		n = hex_decode(clean, buf, sizeof(buf));
		CHECK_INT(smp_cbor_decode(buf, (size_t)n, &m), 0);
		r = smp_status_decode(m, &st);
		tap_checkf(r == cases[i].want_r, __FILE__, __LINE__, "%s: %d", cases[i].what, r);
		if (r == 0)
			tap_checkf(st.kind == cases[i].kind && st.rc == cases[i].rc &&
					   (st.kind != SMP_STATUS_GROUP || st.group == cases[i].group),
				   __FILE__, __LINE__, "%s", cases[i].what);
		if (m)
			cbor_decref(&m);
	}
}

/* rsn is kept for the message. */
static void test_reason_kept(void)
{
	uint8_t buf[64];
	cbor_item_t *m = NULL;
	SmpStatus st;
	char line[256];
	int n = hex_decode("a2627263016372736e6e6d61676963206d69736d61746368", buf, sizeof(buf));

	CHECK_INT(smp_cbor_decode(buf, (size_t)n, &m), 0);
	CHECK_INT(smp_status_decode(m, &st), 0);
	CHECK_STR(st.reason, "magic mismatch");
	smp_status_format(&st, line, sizeof(line));
	CHECK(strstr(line, "rc 1") && strstr(line, "EUNKNOWN") && strstr(line, "magic mismatch"));
	cbor_decref(&m);
}

/* Names for every SMP-level code and the groups' codes; unknown codes are not named. */
static void test_names(void)
{
	CHECK_STR(smp_rc_name(8), "ENOTSUP");
	CHECK_STR(smp_rc_name(13), "UNSUPPORTED_TOO_NEW");
	CHECK(smp_rc_name(14) == NULL);
	CHECK(smp_rc_name(-1) == NULL);
	CHECK_STR(smp_group_rc_name(SMP_GROUP_IMAGE, 9), "NO_FREE_SLOT");
	CHECK_STR(smp_group_rc_name(SMP_GROUP_IMAGE, 34), "ACTIVE_SLOT_NOT_KNOWN");
	CHECK_STR(smp_group_rc_name(SMP_GROUP_ZEPHYR_BASIC, 4), "FLASH_ERASE_FAILED");
	CHECK_STR(smp_group_rc_name(SMP_GROUP_OS, 4), "RTC_NOT_SET");
	CHECK_STR(smp_group_rc_name(SMP_GROUP_FS, 16), "FILE_EMPTY");
	CHECK_STR(smp_group_rc_name(SMP_GROUP_SETTINGS, 3), "KEY_NOT_FOUND");
	CHECK_STR(smp_group_rc_name(SMP_GROUP_SHELL, 3), "EMPTY_COMMAND");
	CHECK_STR(smp_group_rc_name(SMP_GROUP_STAT, 2), "INVALID_GROUP");
	CHECK(smp_group_rc_name(200, 1) == NULL);
	CHECK(smp_rc_describe(999) != NULL);
}

/* The advice users need in the cases REFERENCE.md names. */
static void test_hints(void)
{
	SmpStatus erase = { .kind = SMP_STATUS_RC, .rc = 8 };
	SmpStatus slot = { .kind = SMP_STATUS_GROUP, .group = 1, .rc = 9 };
	SmpStatus unknown = { .kind = SMP_STATUS_RC, .rc = 1 };
	const char *h = smp_status_hint(&erase, SMP_GROUP_ZEPHYR_BASIC, SMP_ZBASIC_ERASE_STORAGE);

	CHECK(h && strstr(h, "CONFIG_MCUMGR_GRP_ZBASIC_STORAGE_ERASE"));
	h = smp_status_hint(&erase, SMP_GROUP_OS, SMP_OS_ECHO);
	CHECK(h && strstr(h, "not built into this firmware"));
	h = smp_status_hint(&slot, SMP_GROUP_IMAGE, SMP_IMAGE_UPLOAD);
	CHECK(h && strstr(h, "reset"));
	CHECK(smp_status_hint(&unknown, SMP_GROUP_OS, SMP_OS_ECHO) == NULL);
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_status_table),
		TAP_TEST(test_reason_kept),
		TAP_TEST(test_names),
		TAP_TEST(test_hints),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
