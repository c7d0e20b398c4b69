/* SPDX-License-Identifier: MIT */
/* The command line of smpctl-bluez-sim: adapters, devices, the link model, device variants, faults. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bluez-sim.h"
#include "util.h"

static void usage(void)
{
	printf("Usage: smpctl-bluez-sim [OPTIONS]\n\n"
	       "A BlueZ 5.66 stand-in: owns org.bluez on the bus named by DBUS_SYSTEM_BUS_ADDRESS (it refuses to run\n"
	       "without it: never the real system bus) and hosts simulated nRF52833s (smpctl-sim's device model)\n"
	       "behind the SMP GATT characteristic.\n\n"
	       "Adapters and devices:\n"
	       "  --adapters N                 adapters hci0..hci(N-1) (default 1, at most 4; 0: none)\n"
	       "  --device ADDR[,name=NAME][,uuid-in-adv=0|1][,rssi=-60][,type=random|public][,passkey=N][,on-after=MS]\n"
	       "                               a device (repeatable, up to 32; default C0:FF:EE:00:00:01 'smpctl-sim');\n"
	       "                               each is reachable through every adapter, one link at a time;\n"
	       "                               on-after: switched on MS ms after the start (real time)\n"
	       "  --max-links N                LE links one adapter takes at once, 1..250 (default 16: Zephyr's\n"
	       "                               HCI controller firmware, samples/bluetooth/hci_uart, is built with\n"
	       "                               CONFIG_BT_MAX_CONN=16; BlueZ sets no limit of its own). Connect\n"
	       "                               beyond it fails Failed \"le-connection-abort-by-local\"\n"
	       "  --known                      devices are known (paired) before any scan\n"
	       "  --temporary-timeout S        discovered devices expire S s after last seen (default 30, not scaled)\n"
	       "Link model (REFERENCE.md §14); the links of one adapter share its radio: their connection events\n"
	       "never overlap (anchors kept, an event closes before another link's anchor, a busy anchor is\n"
	       "skipped), so N links saturate at the adapter's air-time ceiling, not at N x one link:\n"
	       "  --anchor-placement even|packed  where a new link's anchor goes (default even): even splits the\n"
	       "                               interval between the links in whole exchanges (Silicon Labs'\n"
	       "                               even anchor selection); packed puts it right after the last\n"
	       "                               link's full event (Nordic's SoftDevice, Zephyr's controller)\n"
	       "  --conn-interval-ms X         connection interval, 7.5..4000 (default 15)\n"
	       "  --mtu N                      ATT MTU, 23..517 (default 498)\n"
	       "  --data-length N              LL data length, 27..251 (default 251)\n"
	       "  --packets-per-event N        packet exchanges per connection event (default 6)\n"
	       "  --phy 1m|2m                  PHY (default 2m): how many exchanges fit in an event\n"
	       "  --time-scale X               1 real time (default), 0 instant; link, flash, swap, BlueZ timers\n"

	       "Device (passed to the model):\n"
	       "  --buf-size N, --buf-count N  MCUmgr buffers (default 2475 x 4)\n"
	       "  --app-version V              version of the factory image (default 1.0.0)\n"
	       "  --no-params, --no-storage-erase, --legacy, --new-image-crashes, --[no-]progressive-erase,\n"
	       "  --no-image-check, --datetime, --no-slot-info, --frugal-list, --no-downgrade   device variants\n"
	       "  --fs, --fs-sha256, --settings  the file system group (and sha256), the settings group, as\n"
	       "                               smpctl-sim's options of the same names\n"
	       "  --idle-erase[=SECONDS]       slot 1 erased SECONDS (default 5) after a confirmed boot or confirm\n"
	       "                               (CONFIG_SMPCTL_FW_IDLE_ERASE_SECONDARY; an upload stops it)\n"
	       "  --update-footer N            uploads larger than the slot minus N are refused (default 8192, 0 off)\n"
	       "  --no-reassembly              the device treats every write as a frame of its own\n"
	       "  --no-tx-wait                 the device takes the next frame as soon as a response is queued\n"
	       "                               (REFERENCE.md §14's model), not once it is sent (Zephyr)\n"
	       "Security:\n"
	       "  --encrypt                    the SMP characteristic needs an encrypted link (Just Works will do)\n"
	       "  --authen                     it needs authenticated pairing (Zephyr >= 4.0 default)\n"
	       "  --passkey NNNNNN             the passkey the device displays (default 123456)\n"
	       "  --device-io CAP              display, yesno, keyboard, none, keyboard-display (default display)\n"
	       "Faults:\n"
	       "  --disconnect-after-bytes N   the link drops once N bytes were written (once)\n"
	       "  --disconnect-after-notified N  the link drops once the device notified N bytes (once)\n"
	       "  --disconnect-random SEED     the link drops once, after a random number of bytes\n"
	       "  --drop-notify N              every Nth notification is lost\n"
	       "  --delay-notify-ms N          every notification reaches the client N ms late (not scaled)\n"
	       "  --flood-notify N             every notification reaches the client N more times (a flood)\n"
	       "  --acquire-notify-hangs       AcquireNotify never answers (the BlueZ 5.66 bug)\n"
	       "  --acquire-write-fails        AcquireWrite answers NotSupported\n"
	       "  --lose-reset-answer          the device restarts before its answer to a reset goes out\n"
	       "  --connect-failures P         a Connect fails for a transient reason with probability P (0..1):\n"
	       "                               le-connection-abort-by-local after a Connected blip, Software\n"
	       "                               caused connection abort, or the link drops before the services\n"
	       "                               resolve (BLUEZ.md §3)\n"
	       "  --connect-failures-run N     at most N such failures in a row (default 3)\n"
	       "  --gatt-errors P              AcquireWrite, AcquireNotify and StartNotify answer, with probability\n"
	       "                               P (0..1), what 5.66 says while another client's lock is in the way:\n"
	       "                               NotPermitted \"Write/Notify acquired\", InProgress, or Failed with the\n"
	       "                               ATT error of a refused CCC write (0x11)\n"
	       "  --discovery-not-ready filter|start  SetDiscoveryFilter or StartDiscovery answers NotReady, as\n"
	       "                               5.66 does for an adapter that is not powered\n"
	       "  --stop-discovery-delay-ms N  the StopDiscovery that ends the adapter's last session is answered\n"
	       "                               N ms later (real time); the session is kept until then (BLUEZ.md §2)\n"
	       "  --write-value-fails N        the Nth WriteValue (once) answers Failed \"Failed to initiate write\"\n"
	       "                               and its bytes are lost (with --acquire-write-fails)\n"
	       "  --corrupt-write N            the Nth write the device gets (once) has its last byte flipped: it\n"
	       "                               writes data that is not the file's, so the upload ends match: false\n"
	       "                               (a real controller's CRC drops such a packet: this is for trying\n"
	       "                               what a client does then)\n"
	       "  --power-loss-in-swap         the power fails once half way through MCUboot's swap (it resumes)\n"
	       "  --slow-erase MS              the first chunk of every upload is answered MS ms late (real time,\n"
	       "                               not scaled): a flash slow to erase the slot\n"
	       "  (SIGUSR1 turns every fault above off: the link is healthy again, the devices keep their state)\n"
	       "  --seed N                     seed of the fault draws (default 1): runs repeat exactly\n"
	       "Other:\n"
	       "  --ready-file PATH            written once org.bluez is owned and the objects exported\n"
	       "  --stats-file PATH            written at exit: per adapter its ceiling, air time, busy share and\n"
	       "                               the bytes each link carried (key=value lines)\n"
	       "  --verbose                    log on stderr\n"
	       "  --help                       this help\n");
}

enum {
	O_ADAPTERS = 0x100, O_DEVICE, O_KNOWN, O_TEMP, O_INTERVAL, O_MTU, O_DLE, O_PPE, O_PHY, O_SCALE, O_BUF_SIZE,
	O_BUF_COUNT, O_APP_VERSION, O_NO_PARAMS, O_NO_STORAGE, O_LEGACY, O_CRASHES, O_NO_PROGRESSIVE, O_PROGRESSIVE, O_NO_CHECK,
	O_DATETIME, O_NO_SLOT_INFO, O_FRUGAL, O_NO_DOWNGRADE, O_NO_REASM, O_NO_TX_WAIT, O_ENCRYPT, O_AUTHEN, O_PASSKEY,
	O_DEVICE_IO, O_UPDATE_FOOTER,
	O_DISC_BYTES, O_DISC_RANDOM, O_DROP_NOTIFY, O_DELAY_NOTIFY, O_NOTIFY_HANGS, O_WRITE_FAILS, O_LOSE_RESET, O_CONN_FAIL, O_CONN_RUN, O_SEED, O_READY,
	O_POWER_LOSS, O_FLOOD_NOTIFY,
	O_VERBOSE, O_HELP, O_MAX_LINKS, O_STATS, O_IDLE_ERASE, O_FS, O_FS_SHA256, O_SETTINGS, O_DISC_NOTIFIED, O_SLOW_ERASE, O_GATT_ERRORS, O_DISC_NOT_READY, O_STOP_DELAY, O_WRITE_VALUE_FAILS, O_ANCHORS, O_CORRUPT_WRITE, /* in the order of options[]: error messages index it */
};

static const struct option options[] = {
	{ "adapters", 1, NULL, O_ADAPTERS }, { "device", 1, NULL, O_DEVICE }, { "known", 0, NULL, O_KNOWN },
	{ "temporary-timeout", 1, NULL, O_TEMP }, { "conn-interval-ms", 1, NULL, O_INTERVAL },
	{ "mtu", 1, NULL, O_MTU }, { "data-length", 1, NULL, O_DLE }, { "packets-per-event", 1, NULL, O_PPE },
	{ "phy", 1, NULL, O_PHY }, { "time-scale", 1, NULL, O_SCALE }, { "buf-size", 1, NULL, O_BUF_SIZE },
	{ "buf-count", 1, NULL, O_BUF_COUNT }, { "app-version", 1, NULL, O_APP_VERSION },
	{ "no-params", 0, NULL, O_NO_PARAMS }, { "no-storage-erase", 0, NULL, O_NO_STORAGE },
	{ "legacy", 0, NULL, O_LEGACY }, { "new-image-crashes", 0, NULL, O_CRASHES },
	{ "no-progressive-erase", 0, NULL, O_NO_PROGRESSIVE }, { "progressive-erase", 0, NULL, O_PROGRESSIVE }, { "no-image-check", 0, NULL, O_NO_CHECK },
	{ "datetime", 0, NULL, O_DATETIME }, { "no-slot-info", 0, NULL, O_NO_SLOT_INFO },
	{ "frugal-list", 0, NULL, O_FRUGAL }, { "no-downgrade", 0, NULL, O_NO_DOWNGRADE },
	{ "no-reassembly", 0, NULL, O_NO_REASM }, { "no-tx-wait", 0, NULL, O_NO_TX_WAIT },
	{ "encrypt", 0, NULL, O_ENCRYPT }, { "authen", 0, NULL, O_AUTHEN },
	{ "passkey", 1, NULL, O_PASSKEY }, { "device-io", 1, NULL, O_DEVICE_IO },
	{ "update-footer", 1, NULL, O_UPDATE_FOOTER },
	{ "disconnect-after-bytes", 1, NULL, O_DISC_BYTES }, { "disconnect-random", 1, NULL, O_DISC_RANDOM },
	{ "drop-notify", 1, NULL, O_DROP_NOTIFY }, { "delay-notify-ms", 1, NULL, O_DELAY_NOTIFY },
	{ "acquire-notify-hangs", 0, NULL, O_NOTIFY_HANGS }, { "acquire-write-fails", 0, NULL, O_WRITE_FAILS },
	{ "lose-reset-answer", 0, NULL, O_LOSE_RESET }, { "connect-failures", 1, NULL, O_CONN_FAIL },
	{ "connect-failures-run", 1, NULL, O_CONN_RUN }, { "seed", 1, NULL, O_SEED },
	{ "ready-file", 1, NULL, O_READY }, { "power-loss-in-swap", 0, NULL, O_POWER_LOSS },
	{ "flood-notify", 1, NULL, O_FLOOD_NOTIFY }, { "verbose", 0, NULL, O_VERBOSE }, { "help", 0, NULL, O_HELP },
	{ "max-links", 1, NULL, O_MAX_LINKS }, { "stats-file", 1, NULL, O_STATS },
	{ "idle-erase", 2, NULL, O_IDLE_ERASE }, { "fs", 0, NULL, O_FS }, { "fs-sha256", 0, NULL, O_FS_SHA256 },
	{ "settings", 0, NULL, O_SETTINGS }, { "disconnect-after-notified", 1, NULL, O_DISC_NOTIFIED },
	{ "slow-erase", 1, NULL, O_SLOW_ERASE }, { "gatt-errors", 1, NULL, O_GATT_ERRORS },
	{ "discovery-not-ready", 1, NULL, O_DISC_NOT_READY }, { "stop-discovery-delay-ms", 1, NULL, O_STOP_DELAY },
	{ "write-value-fails", 1, NULL, O_WRITE_VALUE_FAILS }, { "anchor-placement", 1, NULL, O_ANCHORS },
	{ "corrupt-write", 1, NULL, O_CORRUPT_WRITE }, {}
};

static int parse_number(const char *arg, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	return errno || *end || end == arg || !(*out >= lo && *out <= hi) ? -EINVAL : 0;
}

static int parse_address(const char *s, size_t len, char out[18])
{
	if (len != 17)
		return -EINVAL;
	for (size_t i = 0; i < 17; i++) {
		char c = s[i];

		if (i % 3 == 2 ? c != ':' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return -EINVAL;
		out[i] = (char)(c >= 'a' && c <= 'f' ? c - 32 : c);
	}
	out[17] = '\0';
	return 0;
}

/* One ",key=value" of --device. */
static int parse_device_key(Radio *r, const char *key, size_t klen, const char *value)
{
	double v;

	if (klen == 4 && !strncmp(key, "name", 4)) {
		snprintf(r->name, sizeof(r->name), "%s", value);
		return 0;
	}
	if (klen == 4 && !strncmp(key, "type", 4)) {
		r->random_address = strcmp(value, "public") != 0;
		return strcmp(value, "public") && strcmp(value, "random") ? -EINVAL : 0;
	}
	if (klen == 11 && !strncmp(key, "uuid-in-adv", 11)) {
		r->uuid_in_adv = strcmp(value, "0") != 0;
		return strcmp(value, "0") && strcmp(value, "1") ? -EINVAL : 0;
	}
	if (klen == 7 && !strncmp(key, "passkey", 7) && parse_number(value, 0, 999999, &v) == 0) {
		r->passkey = (uint32_t)v;
		r->has_passkey = true;
		return 0;
	}
	if (klen == 8 && !strncmp(key, "on-after", 8) && parse_number(value, 0, 600000, &v) == 0) {
		r->on_after_ms = (unsigned)v;
		return 0;
	}
	if (klen == 4 && !strncmp(key, "rssi", 4) && parse_number(value, -127, 20, &v) == 0) {
		r->rssi = (int16_t)v;
		return 0;
	}
	return -EINVAL;
}

/* ADDR[,name=NAME][,uuid-in-adv=0|1][,rssi=N][,type=random|public][,passkey=N]; a name may not hold a
 * comma. */
static int add_device(Stand *s, const char *spec)
{
	Radio *r;
	const char *p = strchr(spec, ',');
	char value[64];

	if (s->n_radios == MAX_RADIOS)
		return -EINVAL;
	r = &s->radios[s->n_radios];
	*r = (Radio){ .random_address = true, .uuid_in_adv = true, .rssi = -60 };
	snprintf(r->name, sizeof(r->name), "smpctl-sim");
	if (parse_address(spec, p ? (size_t)(p - spec) : strlen(spec), r->address) < 0)
		return -EINVAL;
	while (p) {
		const char *key = p + 1, *eq = strchr(key, '='), *next = strchr(key, ',');
		size_t vlen;

		if (!eq || (next && next < eq))
			return -EINVAL;
		vlen = next ? (size_t)(next - eq - 1) : strlen(eq + 1);
		if (vlen >= sizeof(value))
			return -EINVAL;
		memcpy(value, eq + 1, vlen);
		value[vlen] = '\0';
		if (parse_device_key(r, key, (size_t)(eq - key), value) < 0)
			return -EINVAL;
		p = next;
	}
	s->n_radios++;
	return 0;
}

static int parse_io(const char *arg, IoCap *out)
{
	static const char *const names[] = { "display", "yesno", "keyboard", "none", "keyboard-display" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(arg, names[i])) {
			*out = (IoCap)i;
			return 0;
		}
	return -EINVAL;
}

static int parse_link(Stand *s, int c, double v)
{
	switch (c) {
	case O_INTERVAL: s->link.interval_ms = v; break;
	case O_MTU: s->link.mtu = (unsigned)v; break;
	case O_DLE: s->link.data_length = (unsigned)v; break;
	case O_PPE: s->link.packets_per_event = (unsigned)v; break;
	default: return -EINVAL;
	}
	return link_model_validate(&s->link);
}

static int parse_numeric(Stand *s, int c, const char *arg)
{
	double v;

	if (parse_number(arg, 0, 1e15, &v) < 0)
		return -EINVAL;
	switch (c) {
	case O_ADAPTERS: if (v > MAX_ADAPTERS) return -EINVAL; s->n_adapters = (size_t)v; return 0;
	case O_MAX_LINKS: if (v < 1 || v > 250) return -EINVAL; s->max_links = (unsigned)v; return 0;
	case O_TEMP: s->temporary_timeout_s = v; return 0;
	case O_SCALE: if (v > 1000) return -EINVAL; s->time_scale = v; return 0;
	case O_BUF_SIZE: if (v < 64 || v > 65535) return -EINVAL; s->cfg.buf_size = (uint32_t)v; return 0;
	case O_BUF_COUNT: if (v < 1 || v > 32) return -EINVAL; s->cfg.buf_count = (uint32_t)v; return 0;
	case O_PASSKEY: if (v > 999999) return -EINVAL; s->passkey = (uint32_t)v; return 0;
	case O_UPDATE_FOOTER: if (v >= SIM_SLOT_SIZE) return -EINVAL; s->cfg.update_footer = (uint32_t)v; return 0;
	case O_DISC_BYTES: s->faults.disconnect_after_bytes = (uint64_t)v; return 0;
	case O_DISC_NOTIFIED: s->faults.disconnect_after_notified = (uint64_t)v; return 0;
	case O_DISC_RANDOM: s->faults.random_seed = (uint64_t)v + 1; return 0;
	case O_DROP_NOTIFY: s->faults.drop_notify = (unsigned)v; return 0;
	case O_CONN_FAIL: if (v > 1) return -EINVAL; s->faults.connect_failures = v; return 0;
	case O_GATT_ERRORS: if (v > 1) return -EINVAL; s->faults.gatt_errors = v; return 0;
	case O_CONN_RUN: if (v > 1000) return -EINVAL; s->faults.connect_failures_run = (unsigned)v; return 0;
	case O_SEED: s->faults.connect_seed = (uint64_t)v; return 0;
	case O_DELAY_NOTIFY: if (v > 60000) return -EINVAL; s->faults.delay_notify_ms = (unsigned)v; return 0;
	case O_FLOOD_NOTIFY: if (v > 10000) return -EINVAL; s->faults.flood_notify = (unsigned)v; return 0;
	case O_WRITE_VALUE_FAILS: s->faults.write_value_fails = (unsigned)MIN(v, 1e9); return 0;
	case O_CORRUPT_WRITE: s->faults.corrupt_write = (unsigned)MIN(v, 1e9); return 0;
	case O_STOP_DELAY: if (v > 60000) return -EINVAL; s->faults.stop_discovery_delay_ms = (unsigned)v; return 0;
	case O_SLOW_ERASE: if (v > 600000) return -EINVAL; s->cfg.slow_erase_ms = (uint32_t)v; return 0;
	default: return parse_link(s, c, v);
	}
}

static int parse_value(Stand *s, int c, const char *arg)
{
	double v;

	switch (c) {
	case O_DEVICE: return add_device(s, arg);
	case O_IDLE_ERASE: /* CONFIG_SMPCTL_FW_IDLE_ERASE_DELAY_S: 1..3600, default 5 */
		if (!arg) {
			s->cfg.idle_erase_ms = 5000;
			return 0;
		}
		if (parse_number(arg, 1, 3600, &v) < 0)
			return -EINVAL;
		s->cfg.idle_erase_ms = (uint32_t)v * 1000;
		return 0;
	case O_READY: s->ready_file = arg; return 0;
	case O_DISC_NOT_READY:
		s->faults.discovery_not_ready = !strcmp(arg, "filter") ? DISCOVERY_NOT_READY_FILTER :
						!strcmp(arg, "start") ? DISCOVERY_NOT_READY_START : 0;
		return s->faults.discovery_not_ready ? 0 : -EINVAL;
	case O_STATS: s->stats_file = arg; return 0;
	case O_ANCHORS:
		if (strcmp(arg, "even") && strcmp(arg, "packed"))
			return -EINVAL;
		s->anchor_placement = !strcmp(arg, "even") ? AIR_PLACE_EVEN : AIR_PLACE_PACKED;
		return 0;
	case O_PHY: return link_phy_parse(arg, &s->link.phy);
	case O_DEVICE_IO: return parse_io(arg, &s->device_io);
	case O_APP_VERSION:
		if (strlen(arg) >= sizeof(s->cfg.app_version))
			return -EINVAL;
		snprintf(s->cfg.app_version, sizeof(s->cfg.app_version), "%s", arg);
		return 0;
	default: return parse_numeric(s, c, arg);
	}
}

static bool parse_flag(Stand *s, int c)
{
	switch (c) {
	case O_KNOWN: s->known = true; break;
	case O_NO_PARAMS: s->cfg.params = false; break;
	case O_NO_STORAGE: s->cfg.storage_erase = false; break;
	case O_LEGACY: s->cfg.smp_v2 = false; s->cfg.legacy_rc = true; break;
	case O_CRASHES: s->cfg.new_image_crashes = true; break;
	case O_NO_PROGRESSIVE: s->cfg.progressive_erase = false; break;
	case O_PROGRESSIVE: s->cfg.progressive_erase = true; break;
	case O_NO_CHECK: s->cfg.image_check = false; break;
	case O_DATETIME: s->cfg.datetime = true; break;
	case O_FS: s->cfg.fs = true; break;
	case O_FS_SHA256: s->cfg.fs = s->cfg.fs_sha256 = true; break;
	case O_SETTINGS: s->cfg.settings = true; break;
	case O_NO_SLOT_INFO: s->cfg.slot_info = false; break;
	case O_FRUGAL: s->cfg.frugal_list = true; break;
	case O_NO_DOWNGRADE: s->cfg.no_downgrade = true; break;
	case O_NO_REASM: s->reassembly = false; break;
	case O_NO_TX_WAIT: s->tx_wait = false; break;
	case O_ENCRYPT: s->security = MAX(s->security, SEC_ENCRYPT); break;
	case O_AUTHEN: s->security = SEC_AUTHEN; break;
	case O_NOTIFY_HANGS: s->faults.acquire_notify_hangs = true; break;
	case O_WRITE_FAILS: s->faults.acquire_write_fails = true; break;
	case O_LOSE_RESET: s->faults.lose_reset_answer = true; break;
	case O_POWER_LOSS: s->cfg.power_loss_in_swap = true; break;
	case O_VERBOSE: s->verbose = true; break;
	default: return false;
	}
	return true;
}

static void defaults(Stand *s)
{
	link_model_default(&s->link);
	sim_config_default(&s->cfg);
	s->time_scale = 1.0;
	s->reassembly = true;
	s->tx_wait = true;
	s->n_adapters = 1;
	s->max_links = 16; /* CONFIG_BT_MAX_CONN of Zephyr's hci_uart controller sample (--help) */
	s->security = SEC_NONE;
	s->device_io = IO_DISPLAY_ONLY;
	s->passkey = 123456;
	s->temporary_timeout_s = 30; /* [General] TemporaryTimeout, main.conf */
	s->faults.connect_failures_run = 3;
	s->faults.connect_seed = 1;
}

/* 0 to run, 1 after --help, -EINVAL after a message. */
int options_parse(Stand *s, int argc, char **argv)
{
	int c;

	defaults(s);
	while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
		if (c == O_HELP) {
			usage();
			return 1;
		}
		if (c == '?')
			return -EINVAL;
		if (parse_flag(s, c))
			continue;
		if (parse_value(s, c, optarg) < 0) {
			fprintf(stderr, "smpctl-bluez-sim: invalid value '%s' for --%s (see --help)\n", optarg,
				options[c - O_ADAPTERS].name);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "smpctl-bluez-sim: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -EINVAL;
	}
	if (s->n_radios == 0)
		add_device(s, "C0:FF:EE:00:00:01,name=smpctl-sim");
	return 0;
}
