/* SPDX-License-Identifier: MIT */
/* Application or MCUboot serial recovery, from a device's answers (firmware-kind.h). */
#include <string.h>

#include "firmware-kind.h"
#include "tap.h"
#include "util.h"

/* MCUboot's recovery accepts console echo control and has no OS info; what its build has is named. */
static void test_recovery_by_console_echo_control(void)
{
	FirmwareProbe minimal = { .cons_echo_ctrl = 1, .image_list = true };
	FirmwareProbe full = { .cons_echo_ctrl = 1, .image_list = true, .echo = true, .list_hashes = true,
			       .list_flags = true, .slot_info = true };
	char why[512];

	CHECK_INT(firmware_kind(&minimal, why, sizeof(why)), FIRMWARE_SERIAL_RECOVERY);
	CHECK(strstr(why, "OS command 1") && strstr(why, "echo: no") && strstr(why, "MCUBOOT_SERIAL_IMG_GRP_HASH off") &&
	      strstr(why, "MCUBOOT_SERIAL_IMG_GRP_IMAGE_STATE off") && strstr(why, "slot info: no"));
	CHECK_INT(firmware_kind(&full, why, sizeof(why)), FIRMWARE_SERIAL_RECOVERY);
	CHECK(strstr(why, "echo: yes") && strstr(why, "hashes in the image list: yes") && strstr(why, "test/confirm: yes"));
	CHECK_STR(firmware_kind_name(FIRMWARE_SERIAL_RECOVERY), "serial recovery");
}

/* OS info, or Zephyr's rc 8 to console echo control (smp_svr has no OS info), make an application. */
static void test_application(void)
{
	FirmwareProbe with_info = { .os_info = true, .cons_echo_ctrl = 0 };
	FirmwareProbe smp_svr = { .os_info = false, .cons_echo_ctrl = 0, .image_list = true, .echo = true };
	char why[512];

	CHECK_INT(firmware_kind(&with_info, why, sizeof(why)), FIRMWARE_APPLICATION);
	CHECK(strstr(why, "OS info") != NULL);
	CHECK_INT(firmware_kind(&smp_svr, why, sizeof(why)), FIRMWARE_APPLICATION);
	CHECK(strstr(why, "refuses console echo control") != NULL);
}

/* Neither question answered: no verdict, and a small buffer stays a string. */
static void test_unknown_and_small_buffer(void)
{
	FirmwareProbe silent = { .cons_echo_ctrl = -1 };
	FirmwareProbe rec = { .cons_echo_ctrl = 1 };
	char why[16];

	CHECK_INT(firmware_kind(&silent, why, sizeof(why)), FIRMWARE_UNKNOWN);
	CHECK_INT(firmware_kind(&rec, why, sizeof(why)), FIRMWARE_SERIAL_RECOVERY);
	CHECK(strlen(why) < sizeof(why));
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_recovery_by_console_echo_control),
		TAP_TEST(test_application),
		TAP_TEST(test_unknown_and_small_buffer),
	};

	return tap_run(tests, ARRAY_SIZE(tests));
}
