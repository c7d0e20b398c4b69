/* SPDX-License-Identifier: MIT */
/*
 * Bluetooth LE side of smpctl's firmware. Zephyr registers the SMP GATT service itself at boot
 * (MCUMGR_TRANSPORT_BT with MCUMGR_TRANSPORT_BT_DYNAMIC_SVC_REGISTRATION, default y); this file makes
 * the board findable by 'smpctl scan' (the SMP service UUID in the advertising data, the name in the
 * scan response), asks every connection for the link smpctl's writes are sized for (LL data length
 * 251 and the 2M PHY; the ATT MTU of 498 is the central's to request, REFERENCE.md sections 6, 14),
 * and, with CONFIG_SMPCTL_FW_PAIRING, shows the passkey of an authenticated pairing on the console.
 */
#include <zephyr/bluetooth/bluetooth.h>
#include <zephyr/bluetooth/conn.h>
#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/mgmt/mcumgr/transport/smp_bt.h>
#include <zephyr/settings/settings.h>

#include "smpctl-fw.h"

LOG_MODULE_REGISTER(smpctl_bt, LOG_LEVEL_INF);

/* REFERENCE.md section 6: with BT_SMP on, Zephyr >= 4.0 requires authenticated pairing for the SMP
 * characteristic by default, which a board without display or keyboard can only complete with
 * passkey callbacks; without them the characteristic can never be written. */
BUILD_ASSERT(!IS_ENABLED(CONFIG_MCUMGR_TRANSPORT_BT_PERM_RW_AUTHEN) || IS_ENABLED(CONFIG_SMPCTL_FW_PAIRING),
	     "MCUMGR_TRANSPORT_BT_PERM_RW_AUTHEN needs CONFIG_SMPCTL_FW_PAIRING=y (see pairing.conf)");

static struct k_work advertise_work;

static const struct bt_data advertising_data[] = {
	BT_DATA_BYTES(BT_DATA_FLAGS, (BT_LE_AD_GENERAL | BT_LE_AD_NO_BREDR)),
	BT_DATA_BYTES(BT_DATA_UUID128_ALL, SMP_BT_SVC_UUID_VAL),
};

static const struct bt_data scan_response[] = {
	BT_DATA(BT_DATA_NAME_COMPLETE, CONFIG_BT_DEVICE_NAME, sizeof(CONFIG_BT_DEVICE_NAME) - 1),
};

static void advertise(struct k_work *work)
{
	int rc;

	ARG_UNUSED(work);
	rc = bt_le_adv_start(BT_LE_ADV_CONN_FAST_1, advertising_data, ARRAY_SIZE(advertising_data),
			     scan_response, ARRAY_SIZE(scan_response));
	if (rc)
		LOG_ERR("advertising did not start (%d)", rc);
}

/* With BT_USER_DATA_LEN_UPDATE / BT_USER_PHY_UPDATE the host no longer starts these procedures on
 * its own (BT_AUTO_DATA_LEN_UPDATE / BT_AUTO_PHY_UPDATE default to n then): the peripheral asks. */
static void request_fast_link(struct bt_conn *conn)
{
#if defined(CONFIG_BT_USER_DATA_LEN_UPDATE)
	int dle = bt_conn_le_data_len_update(conn, BT_LE_DATA_LEN_PARAM_MAX);

	if (dle)
		LOG_WRN("data length update not requested (%d)", dle);
#endif
#if defined(CONFIG_BT_USER_PHY_UPDATE)
	int phy = bt_conn_le_phy_update(conn, BT_CONN_LE_PHY_PARAM_2M);

	if (phy)
		LOG_WRN("2M PHY not requested (%d)", phy);
#endif
	ARG_UNUSED(conn);
}

static void connected(struct bt_conn *conn, uint8_t err)
{
	if (err) {
		k_work_submit(&advertise_work);
		return;
	}
	request_fast_link(conn);
}

/* A connection object is free again: advertise for the next central. */
static void recycled(void)
{
	k_work_submit(&advertise_work);
}

BT_CONN_CB_DEFINE(smpctl_conn_callbacks) = {
	.connected = connected,
	.recycled = recycled,
};

#if defined(CONFIG_SMPCTL_FW_PAIRING)
BUILD_ASSERT(CONFIG_SMPCTL_FW_FIXED_PASSKEY == 0 || IS_ENABLED(CONFIG_BT_FIXED_PASSKEY),
	     "CONFIG_SMPCTL_FW_FIXED_PASSKEY needs CONFIG_BT_FIXED_PASSKEY=y");

static void passkey_display(struct bt_conn *conn, unsigned int passkey)
{
	char peer[BT_ADDR_LE_STR_LEN];

	bt_addr_le_to_str(bt_conn_get_dst(conn), peer, sizeof(peer));
	LOG_INF("pairing with %s: passkey %06u (smpctl --passkey %06u)", peer, passkey, passkey);
}

static void pairing_cancelled(struct bt_conn *conn)
{
	ARG_UNUSED(conn);
	LOG_WRN("pairing cancelled");
}

static void pairing_failed(struct bt_conn *conn, enum bt_security_err reason)
{
	ARG_UNUSED(conn);
	LOG_WRN("pairing failed (security error %d)", (int)reason);
}

/* Display only: the host enters the passkey (LE Secure Connections passkey entry). */
static const struct bt_conn_auth_cb auth_callbacks = {
	.passkey_display = passkey_display,
	.cancel = pairing_cancelled,
};

static struct bt_conn_auth_info_cb auth_info_callbacks = {
	.pairing_failed = pairing_failed,
};

static int pairing_setup(void)
{
	int rc;

#if defined(CONFIG_BT_FIXED_PASSKEY)
	if (CONFIG_SMPCTL_FW_FIXED_PASSKEY != 0) {
		rc = bt_passkey_set(CONFIG_SMPCTL_FW_FIXED_PASSKEY);
		if (rc)
			return rc;
	}
#endif
	rc = bt_conn_auth_cb_register(&auth_callbacks);
	if (rc)
		return rc;
	return bt_conn_auth_info_cb_register(&auth_info_callbacks);
}
#else
static int pairing_setup(void)
{
	return 0;
}
#endif

int smpctl_fw_bluetooth_start(void)
{
	int rc;

	k_work_init(&advertise_work, advertise);
	rc = bt_enable(NULL);
	if (rc)
		return rc;
	/* Identity and bonds live in the storage partition that SMP group 63 (smpctl settings erase)
	 * wipes; Zephyr loads them only after bt_enable(). */
	if (IS_ENABLED(CONFIG_BT_SETTINGS)) {
		rc = settings_load();
		if (rc)
			LOG_WRN("settings not loaded (%d)", rc);
	}
	rc = pairing_setup();
	if (rc)
		return rc;
	k_work_submit(&advertise_work);
	return 0;
}
