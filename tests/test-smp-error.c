/* SPDX-License-Identifier: MIT */
/* Device errors: v1 rc, v2 err{group, rc}, rsn, wrong types; names, plain words and advice. */
#include <errno.h>
#include <string.h>

#include "smp-cbor.h"
#include "smp-error.h"
#include "smp.h"
#include "cbor-hex.h"
#include "tap.h"
#include "util.h"

static int status_of(const char *hex, SmpStatus *st)
{
	cbor_item_t *m = cbor_from_spaced_hex(hex);
	int r = smp_status_decode(m, st);

	smp_cbor_freep(&m);
	return r;
}

typedef struct StatusCase {
	const char *what;
	const char *hex;
	int want_r;
	SmpStatusKind kind;
	uint16_t group;
	int32_t rc;
} StatusCase;

/* Each response form decodes to its status; wrong types are refused. */
static void test_status_table(void)
{
	static const StatusCase cases[] = {
		{ "empty map is success", "bf ff", 0, SMP_STATUS_OK, 0, 0 },
		{ "a body with fields and no rc is success", "a1 63 6f 66 66 00", 0, SMP_STATUS_OK, 0, 0 },
		{ "legacy rc 0 is success", "a1 62 72 63 00", 0, SMP_STATUS_OK, 0, 0 },
		{ "rc 8", "bf 62 72 63 08 ff", 0, SMP_STATUS_RC, 0, 8 },
		{ "application rc 300", "a1 62 72 63 19 01 2c", 0, SMP_STATUS_RC, 0, 300 },
		{ "negative rc", "a1 62 72 63 20", 0, SMP_STATUS_RC, 0, -1 },
		{ "duplicate rc: the first wins", "bf 62 72 63 06 62 72 63 00 ff", 0, SMP_STATUS_RC, 0, 6 },
		{ "chunked key", "bf 7f 61 72 61 63 ff 09 ff", 0, SMP_STATUS_RC, 0, 9 },
		{ "v2 image error", "bf 63 65 72 72 bf 65 67 72 6f 75 70 01 62 72 63 17 ff ff", 0, SMP_STATUS_GROUP, 1, 23 },
		{ "stat error under group 63", "a1 63 65 72 72 a2 65 67 72 6f 75 70 18 3f 62 72 63 02", 0, SMP_STATUS_GROUP,
		  63, 2 },
		{ "err with rc 0 is success", "a1 63 65 72 72 a2 65 67 72 6f 75 70 01 62 72 63 00", 0, SMP_STATUS_OK, 0, 0 },
		{ "err wins over rc", "a2 62 72 63 01 63 65 72 72 a2 65 67 72 6f 75 70 01 62 72 63 09", 0,
		  SMP_STATUS_GROUP, 1, 9 },
		{ "rc as text", "a1 62 72 63 61 38", -EBADMSG, SMP_STATUS_OK, 0, 0 },
		{ "rc as a bool", "a1 62 72 63 f5", -EBADMSG, SMP_STATUS_OK, 0, 0 },
		{ "rc beyond int32", "a1 62 72 63 1a 80 00 00 00", -EBADMSG, SMP_STATUS_OK, 0, 0 },
		{ "err without rc", "a1 63 65 72 72 a1 65 67 72 6f 75 70 01", -EBADMSG, SMP_STATUS_OK, 0, 0 },
		{ "err without group", "a1 63 65 72 72 a1 62 72 63 01", -EBADMSG, SMP_STATUS_OK, 0, 0 },
		{ "err not a map", "a1 63 65 72 72 01", -EBADMSG, SMP_STATUS_OK, 0, 0 },
		{ "err group beyond 16 bits", "a1 63 65 72 72 a2 65 67 72 6f 75 70 1a 00 01 00 00 62 72 63 01", -EBADMSG,
		  SMP_STATUS_OK, 0, 0 },
		{ "err group negative", "a1 63 65 72 72 a2 65 67 72 6f 75 70 20 62 72 63 01", -EBADMSG, SMP_STATUS_OK, 0,
		  0 },
		{ "not a map", "80", -EBADMSG, SMP_STATUS_OK, 0, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		SmpStatus st;
		int r = status_of(cases[i].hex, &st);

		tap_checkf(r == cases[i].want_r, __FILE__, __LINE__, "%s: %d", cases[i].what, r);
		tap_checkf(st.kind == cases[i].kind && st.rc == cases[i].rc &&
				   (st.kind != SMP_STATUS_GROUP || st.group == cases[i].group),
			   __FILE__, __LINE__, "%s: kind %d group %u rc %d", cases[i].what, st.kind, st.group, st.rc);
	}
	CHECK_INT(smp_status_decode(NULL, &(SmpStatus){ 0 }), -EBADMSG);
}

/* rsn is kept for the message (cut when long, chunked accepted); one of the wrong type is ignored. */
static void test_reason(void)
{
	char line[256], hex[600] = "a2 62 72 63 01 63 72 73 6e 78 c8";
	SmpStatus st;

	CHECK_INT(status_of("a2 62 72 63 01 63 72 73 6e 6e 6d 61 67 69 63 20 6d 69 73 6d 61 74 63 68", &st), 0);
	CHECK_STR(st.reason, "magic mismatch");
	smp_status_format(&st, line, sizeof(line));
	CHECK_STR(line, "device error: rc 1 (EUNKNOWN: unknown error): magic mismatch");
	CHECK_INT(status_of("a2 62 72 63 01 63 72 73 6e 7f 61 61 61 62 ff", &st), 0);
	CHECK_STR(st.reason, "ab");
	CHECK_INT(status_of("a2 62 72 63 01 63 72 73 6e 05", &st), 0);
	CHECK_STR(st.reason, "");
	for (int i = 0; i < 200; i++) /* a 200-character reason */
		strcat(hex, "7a");
	CHECK_INT(status_of(hex, &st), 0);
	CHECK_INT(strlen(st.reason), sizeof(st.reason) - 1);
	CHECK(st.reason[0] == 'z');
}

/* One line per status: SMP-level rc, group codes by their group's list, unknown groups by number. */
static void test_format(void)
{
	static const struct {
		SmpStatus st;
		uint16_t req_group;
		const char *want;
	} cases[] = {
		{ { .kind = SMP_STATUS_OK }, 0, "success" },
		{ { .kind = SMP_STATUS_RC, .rc = 8 }, 0,
		  "device error: rc 8 (ENOTSUP: the command is not supported by this firmware)" },
		{ { .kind = SMP_STATUS_RC, .rc = 300 }, 0, "device error: rc 300 (an error defined by the application)" },
		{ { .kind = SMP_STATUS_RC, .rc = 99 }, 0, "device error: rc 99 (an error this tool does not know)" },
		{ { .kind = SMP_STATUS_GROUP, .group = 1, .rc = 9 }, SMP_STATUS_ANY_REQUEST,
		  "device error: image error 9 (NO_FREE_SLOT: no free slot)" },
		{ { .kind = SMP_STATUS_GROUP, .group = 63, .rc = 2 }, SMP_GROUP_ZEPHYR_BASIC,
		  "device error: zephyr-basic error 2 (FLASH_OPEN_FAILED: the device could not open its settings "
		  "partition)" },
		{ { .kind = SMP_STATUS_GROUP, .group = 63, .rc = 2 }, SMP_GROUP_STAT,
		  "device error: stat error 2 (INVALID_GROUP: no such statistics group)" },
		{ { .kind = SMP_STATUS_GROUP, .group = 64, .rc = 3 }, 64,
		  "device error: group 64 error 3 (an error this tool does not know)" },
		{ { .kind = SMP_STATUS_GROUP, .group = 1, .rc = 23, .reason = "magic mismatch" }, 1,
		  "device error: image error 23 (INVALID_IMAGE_HEADER_MAGIC: the data does not start with an MCUboot "
		  "image header): magic mismatch" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char line[256];

		smp_status_format_for(&cases[i].st, cases[i].req_group, line, sizeof(line));
		CHECK_STR(line, cases[i].want);
	}
	{
		char small[12];

		smp_status_format(&cases[8].st, small, sizeof(small));
		CHECK_STR(small, "device erro");
	}
}

/* Stat errors come back under group 63 (REFERENCE.md §11): read them in the stat list only for a stat
 * request. */
static void test_code_group(void)
{
	SmpStatus st = { .kind = SMP_STATUS_GROUP, .group = 63, .rc = 2 };

	CHECK_INT(smp_status_code_group(&st, SMP_GROUP_STAT), SMP_GROUP_STAT);
	CHECK_INT(smp_status_code_group(&st, SMP_GROUP_ZEPHYR_BASIC), 63);
	CHECK_INT(smp_status_code_group(&st, SMP_STATUS_ANY_REQUEST), 63);
	st.group = 1;
	CHECK_INT(smp_status_code_group(&st, SMP_GROUP_STAT), 1);
}

/* Names for every SMP-level code and the groups' codes (Zephyr's enums); unknown codes are not named. */
static void test_names(void)
{
	static const struct {
		uint16_t group;
		int32_t last;
		const char *last_name;
	} groups[] = {
		{ SMP_GROUP_OS, 6, "QUERY_RESPONSE_VALUE_NOT_VALID" },
		{ SMP_GROUP_IMAGE, 34, "ACTIVE_SLOT_NOT_KNOWN" },
		{ SMP_GROUP_STAT, 5, "WALK_ABORTED" },
		{ SMP_GROUP_SETTINGS, 8, "SAVE_NOT_SUPPORTED" },
		{ SMP_GROUP_FS, 16, "FILE_EMPTY" },
		{ SMP_GROUP_SHELL, 3, "EMPTY_COMMAND" },
		{ SMP_GROUP_ENUM, 4, "INDEX_TOO_LARGE" },
		{ SMP_GROUP_ZEPHYR_BASIC, 4, "FLASH_ERASE_FAILED" },
	};

	for (int32_t rc = 0; rc <= 13; rc++)
		tap_checkf(smp_rc_name(rc) != NULL, __FILE__, __LINE__, "rc %d named", rc);
	CHECK_STR(smp_rc_name(8), "ENOTSUP");
	CHECK_STR(smp_rc_name(13), "UNSUPPORTED_TOO_NEW");
	CHECK(smp_rc_name(14) == NULL);
	CHECK(smp_rc_name(-1) == NULL);
	for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
		for (int32_t rc = 0; rc <= groups[g].last; rc++)
			tap_checkf(smp_group_rc_name(groups[g].group, rc) != NULL, __FILE__, __LINE__, "group %u rc %d",
				   groups[g].group, rc);
		CHECK_STR(smp_group_rc_name(groups[g].group, groups[g].last), groups[g].last_name);
		CHECK(smp_group_rc_name(groups[g].group, groups[g].last + 1) == NULL);
		CHECK_STR(smp_group_rc_describe(groups[g].group, groups[g].last + 1), "an error this tool does not know");
	}
	/* The enum in smp-error.h follows img_mgmt.h. */
	CHECK_STR(smp_group_rc_name(SMP_GROUP_IMAGE, SMP_IMG_NO_FREE_SLOT), "NO_FREE_SLOT");
	CHECK_STR(smp_group_rc_name(SMP_GROUP_IMAGE, SMP_IMG_INVALID_IMAGE_HEADER_MAGIC), "INVALID_IMAGE_HEADER_MAGIC");
	CHECK_STR(smp_group_rc_name(SMP_GROUP_IMAGE, SMP_IMG_IMAGE_ALREADY_PENDING), "IMAGE_ALREADY_PENDING");
	CHECK_STR(smp_group_rc_name(SMP_GROUP_OS, 4), "RTC_NOT_SET");
	CHECK_STR(smp_group_rc_name(SMP_GROUP_SETTINGS, 3), "KEY_NOT_FOUND");
	CHECK(smp_group_rc_name(200, 1) == NULL);
	CHECK(smp_group_rc_name(SMP_GROUP_IMAGE, -1) == NULL);
	CHECK(smp_rc_describe(999) != NULL);
	CHECK(smp_group_rc_describe(200, 1) != NULL);
}

typedef struct HintCase {
	const char *what;
	SmpStatus st;
	uint16_t req_group;
	uint8_t req_id;
	const char *want; /* a phrase the hint contains, or NULL for no hint */
} HintCase;

/* The advice users need, in the cases they hit. */
static void test_hints(void)
{
	static const HintCase cases[] = {
		{ "settings erase not built in", { .kind = SMP_STATUS_RC, .rc = 8 }, SMP_GROUP_ZEPHYR_BASIC,
		  SMP_ZBASIC_ERASE_STORAGE,
		  "this firmware cannot erase settings (enable CONFIG_MCUMGR_GRP_ZBASIC and "
		  "CONFIG_MCUMGR_GRP_ZBASIC_STORAGE_ERASE, with a storage partition)" },
		{ "echo not built in", { .kind = SMP_STATUS_RC, .rc = 8 }, SMP_GROUP_OS, SMP_OS_ECHO,
		  "not built into this firmware" },
		{ "no params", { .kind = SMP_STATUS_RC, .rc = 8 }, SMP_GROUP_OS, SMP_OS_PARAMS,
		  "CONFIG_MCUMGR_GRP_OS_MCUMGR_PARAMS" },
		{ "upload into a pending slot", { .kind = SMP_STATUS_GROUP, .group = 1, .rc = 9 }, SMP_GROUP_IMAGE,
		  SMP_IMAGE_UPLOAD, "'smpctl image erase'" },
		{ "erase of a pending slot", { .kind = SMP_STATUS_GROUP, .group = 1, .rc = 9 }, SMP_GROUP_IMAGE,
		  SMP_IMAGE_ERASE, "'smpctl reset' boots it" },
		{ "test while another is pending", { .kind = SMP_STATUS_GROUP, .group = 1, .rc = 28 }, SMP_GROUP_IMAGE,
		  SMP_IMAGE_STATE, "already marked for the next boot" },
		{ "unknown hash", { .kind = SMP_STATUS_GROUP, .group = 1, .rc = 8 }, SMP_GROUP_IMAGE, SMP_IMAGE_STATE,
		  "'smpctl image list'" },
		{ "upgrade refused", { .kind = SMP_STATUS_GROUP, .group = 1, .rc = 27 }, SMP_GROUP_IMAGE,
		  SMP_IMAGE_UPLOAD, "--upgrade" },
		{ "not an MCUboot image", { .kind = SMP_STATUS_GROUP, .group = 1, .rc = 23 }, SMP_GROUP_IMAGE,
		  SMP_IMAGE_UPLOAD, "imgtool" },
		{ "too large", { .kind = SMP_STATUS_GROUP, .group = 1, .rc = 30 }, SMP_GROUP_IMAGE, SMP_IMAGE_UPLOAD,
		  "larger than the device accepts" },
		{ "frame too big", { .kind = SMP_STATUS_RC, .rc = 9 }, SMP_GROUP_IMAGE, SMP_IMAGE_UPLOAD, "--frame-size" },
		{ "image list too big for 128-byte buffers", { .kind = SMP_STATUS_RC, .rc = 7 }, SMP_GROUP_IMAGE,
		  SMP_IMAGE_STATE, "CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE" },
		{ "another answer too big", { .kind = SMP_STATUS_RC, .rc = 7 }, SMP_GROUP_OS, SMP_OS_ECHO,
		  "make the request smaller" },
		{ "v1 erase of a slot in use", { .kind = SMP_STATUS_RC, .rc = 6 }, SMP_GROUP_IMAGE, SMP_IMAGE_ERASE,
		  "'smpctl reset' boots it" },
		{ "v1 upload, no slot", { .kind = SMP_STATUS_RC, .rc = 6, .reason = "no slot" }, SMP_GROUP_IMAGE,
		  SMP_IMAGE_UPLOAD, "'smpctl image erase'" },
		{ "v1 upload, downgrade", { .kind = SMP_STATUS_RC, .rc = 6, .reason = "downgrade" }, SMP_GROUP_IMAGE,
		  SMP_IMAGE_UPLOAD, "--upgrade" },
		{ "v1 upload, magic mismatch", { .kind = SMP_STATUS_RC, .rc = 1, .reason = "magic mismatch" },
		  SMP_GROUP_IMAGE, SMP_IMAGE_UPLOAD, "imgtool" },
		{ "stat error under 63 is not a storage problem", { .kind = SMP_STATUS_GROUP, .group = 63, .rc = 2 },
		  SMP_GROUP_STAT, 0, NULL },
		{ "storage partition missing", { .kind = SMP_STATUS_GROUP, .group = 63, .rc = 2 },
		  SMP_GROUP_ZEPHYR_BASIC, SMP_ZBASIC_ERASE_STORAGE, "storage partition" },
		{ "nothing to say about EUNKNOWN on echo", { .kind = SMP_STATUS_RC, .rc = 1 }, SMP_GROUP_OS, SMP_OS_ECHO,
		  NULL },
		{ "nothing to say about success", { .kind = SMP_STATUS_OK }, SMP_GROUP_OS, SMP_OS_ECHO, NULL },
		{ "mpstat on Zephyr", { .kind = SMP_STATUS_RC, .rc = 8 }, SMP_GROUP_OS, SMP_OS_MEMPOOL_STATS,
		  "not supported by Zephyr" },
		{ "no task stats", { .kind = SMP_STATUS_RC, .rc = 8 }, SMP_GROUP_OS, SMP_OS_TASK_STATS,
		  "CONFIG_MCUMGR_GRP_OS_TASKSTAT" },
		{ "bad date-time", { .kind = SMP_STATUS_RC, .rc = 3 }, SMP_GROUP_OS, SMP_OS_DATETIME, "yyyy-mm-dd" },
		{ "clock not set", { .kind = SMP_STATUS_GROUP, .group = 0, .rc = 4 }, SMP_GROUP_OS, SMP_OS_DATETIME,
		  "'smpctl datetime set'" },
		{ "unknown stat group, under 63", { .kind = SMP_STATUS_GROUP, .group = 63, .rc = 3 }, SMP_GROUP_STAT,
		  SMP_STAT_SHOW, "'smpctl stat list'" },
		{ "shell line too long", { .kind = SMP_STATUS_GROUP, .group = 9, .rc = 2 }, SMP_GROUP_SHELL,
		  SMP_SHELL_EXEC, "CONFIG_SHELL_CMD_BUFF_SIZE" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *h = smp_status_hint(&cases[i].st, cases[i].req_group, cases[i].req_id);

		if (cases[i].want)
			tap_checkf(h && strstr(h, cases[i].want), __FILE__, __LINE__, "%s: %s", cases[i].what,
				   h ? h : "(none)");
		else
			tap_checkf(h == NULL, __FILE__, __LINE__, "%s: %s", cases[i].what, h);
	}
}

/* Groups by what they do and the Kconfig symbol that builds each; which commands imply their group. */
static void test_group_titles(void)
{
	CHECK_STR(smp_group_title(SMP_GROUP_FS), "file system");
	CHECK_STR(smp_group_title(SMP_GROUP_STAT), "statistics");
	CHECK_STR(smp_group_kconfig(SMP_GROUP_SHELL), "CONFIG_MCUMGR_GRP_SHELL");
	CHECK_STR(smp_group_kconfig(SMP_GROUP_ENUM), "CONFIG_MCUMGR_GRP_ENUM");
	CHECK(smp_group_title(4) == NULL && smp_group_kconfig(200) == NULL);
	CHECK(smp_command_implies_group(SMP_GROUP_STAT, SMP_STAT_LIST));
	CHECK(smp_command_implies_group(SMP_GROUP_SHELL, SMP_SHELL_EXEC));
	CHECK(!smp_command_implies_group(SMP_GROUP_ENUM, SMP_ENUM_DETAILS)); /* CONFIG_MCUMGR_GRP_ENUM_DETAILS */
	CHECK(!smp_command_implies_group(SMP_GROUP_FS, 2));                  /* hash: its own Kconfig */
	CHECK(!smp_command_implies_group(SMP_GROUP_OS, SMP_OS_ECHO));
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_status_table),
		TAP_TEST(test_reason),
		TAP_TEST(test_format),
		TAP_TEST(test_code_group),
		TAP_TEST(test_names),
		TAP_TEST(test_hints),
		TAP_TEST(test_group_titles),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
