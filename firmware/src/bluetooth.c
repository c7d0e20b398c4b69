/* SPDX-License-Identifier: MIT */
/*
 * Advertising for the SMP GATT service (registered by CONFIG_MCUMGR_TRANSPORT_BT): the SMP service
 * UUID in the advertisement, so that 'smpctl scan' finds the board, and its name in the scan response.
 * Optional passkey pairing for a characteristic that needs an authenticated link.
 */
#include <zephyr/bluetooth/bluetooth.h>
#include <zephyr/bluetooth/conn.h>
#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/mgmt/mcumgr/transport/smp_bt.h>
#include <zephyr/settings/settings.h>

LOG_MODULE_REGISTER(smpctl_bt, LOG_LEVEL_INF);

static struct k_work advertise_work;

static const struct bt_data ad[] = {
	BT_DATA_BYTES(BT_DATA_FLAGS, (BT_LE_AD_GENERAL | BT_LE_AD_NO_BREDR)),
	BT_DATA_BYTES(BT_DATA_UUID128_ALL, SMP_BT_SVC_UUID_VAL),
};

static const struct bt_data sd[] = {
	BT_DATA(BT_DATA_NAME_COMPLETE, CONFIG_BT_DEVICE_NAME, sizeof(CONFIG_BT_DEVICE_NAME) - 1),
};

static void advertise(struct k_work *work)
{
	int rc = bt_le_adv_start(BT_LE_ADV_CONN_FAST_1, ad, ARRAY_SIZE(ad), sd, ARRAY_SIZE(sd));

	ARG_UNUSED(work);
	if (rc)
		LOG_ERR("advertising failed to start (%d)", rc);
}

static void connected(struct bt_conn *conn, uint8_t err)
{
	ARG_UNUSED(conn);
	if (err)
		k_work_submit(&advertise_work);
}

static void recycled(void)
{
	k_work_submit(&advertise_work);
}

BT_CONN_CB_DEFINE(conn_callbacks) = {
	.connected = connected,
	.recycled = recycled,
};

#if defined(CONFIG_SMPCTL_FW_PAIRING_PASSKEY)
/* The board has no display: the passkey is fixed (CONFIG_BT_FIXED_PASSKEY) and shown on the log. */
#define SMPCTL_FW_PASSKEY 123456u

static void passkey_display(struct bt_conn *conn, unsigned int passkey)
{
	ARG_UNUSED(conn);
	LOG_INF("pairing passkey: %06u (smpctl --passkey %06u)", passkey, passkey);
}

static void pairing_cancel(struct bt_conn *conn)
{
	ARG_UNUSED(conn);
	LOG_WRN("pairing cancelled");
}

static struct bt_conn_auth_cb auth_callbacks = {
	.passkey_display = passkey_display,
	.cancel = pairing_cancel,
};
#endif

void smpctl_fw_bluetooth_start(void);

void smpctl_fw_bluetooth_start(void)
{
	int rc;

	k_work_init(&advertise_work, advertise);
	rc = bt_enable(NULL);
	if (rc) {
		LOG_ERR("Bluetooth enable failed (%d)", rc);
		return;
	}
	/* Bonds and identity live in the settings partition (erased by 'smpctl settings erase'). */
	settings_load();
#if defined(CONFIG_SMPCTL_FW_PAIRING_PASSKEY)
	bt_passkey_set(SMPCTL_FW_PASSKEY);
	bt_conn_auth_cb_register(&auth_callbacks);
#endif
	k_work_submit(&advertise_work);
}
