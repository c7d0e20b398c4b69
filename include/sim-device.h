/* SPDX-License-Identifier: MIT */
/*
 * The simulated device: Zephyr's mcumgr SMP server with MCUboot (swap-using-move) on an nRF52833.
 * Behaviour follows Zephyr 4.1 (REFERENCE.md §4, §5, §11, §13), quirks included, never what a client
 * hopes. The model is transport-agnostic and keeps no clock of its own: it reports how long each step
 * takes in device time (flash timing of REFERENCE.md §14) and its hosts (UDP server, BlueZ stand-in,
 * serial pty) schedule replies on their own sd-event loop, scaled by SimConfig.time_scale.
 *
 * Defaults (sim_config_default) must move together with firmware/ (prj.conf, partitions):
 * buf_size 2475, buf_count 4, slots 0x37000 bytes, no progressive erase, image check, storage erase,
 * verbose errors, slot info, uploads limited to what MCUboot can swap (update footer 0x2000), the
 * statistics group (with no statistics of its own); no frugal list, no build date in OS info, no MCUboot
 * downgrade prevention, no task stats, shell, enumeration, file system or date-time, no idle erase of slot 1.
 * tests/integration/test_firmware.py reads firmware/ and checks these against it.
 *
 * A server without SMP v2 (smp_v2 false, a pre-3.3 mcumgr as in older nRF Connect SDKs) ignores the
 * header's version bits: it answers every request with a version-0 header, never says rc 13, and its
 * group errors are plain "rc" codes (the v1 translation), never "err".
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_PAGE_SIZE 4096u
#define SIM_SLOT_SIZE 0x37000u     /* nRF52833 DK partitions: slot0 0x0C000, slot1 0x43000 */
#define SIM_SLOT0_OFFSET 0x0C000u  /* where a direct-xip image linked for slot 0 runs (imgtool --rom-fixed) */
#define SIM_SLOT1_OFFSET 0x43000u
#define SIM_STORAGE_SIZE 0x6000u
#define SIM_IMAGES_MAX 2u          /* CONFIG_UPDATEABLE_IMAGE_NUMBER up to 2: application and network core */
/* MCUboot 2.1's estimate for swap-using-move (boot/zephyr/CMakeLists.txt, mcuboot_image_upgrade_footer_size):
 * magic, swap data and 128 sectors of status rounded up to a 4 KiB page, plus the page the move needs. */
#define SIM_UPDATE_FOOTER 0x2000u

typedef struct SimConfig {
	uint32_t buf_size;          /* MCUmgr params buf_size (CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE) */
	uint32_t buf_count;         /* MCUmgr params buf_count (CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT) */
	bool params;                /* OS params command present (false → rc 8) */
	bool smp_v2;                /* server understands SMP v2; false = legacy server answering v1 only */
	bool legacy_rc;             /* add "rc": 0 to successful responses (CONFIG_MCUMGR_SMP_LEGACY_RC_BEHAVIOUR) */
	bool progressive_erase;     /* CONFIG_IMG_ERASE_PROGRESSIVELY; false = erase len up front on chunk 0 */
	bool image_check;           /* CONFIG_IMG_ENABLE_IMAGE_CHECK: "match" on the last upload response */
	bool storage_erase;         /* zephyr basic storage erase present (false → rc 8, as the seed device) */
	bool datetime;              /* RTC present; false → date-time answers rc 8 */
	bool verbose_errors;        /* add "rsn" to v1 errors (CONFIG_MCUMGR_SMP_VERBOSE_ERR_RESPONSE) */
	bool new_image_crashes;     /* a tested image never confirms: the watchdog resets, MCUboot reverts */
	bool power_loss_in_swap;    /* the power fails once half way through MCUboot's swap */
	uint32_t slow_erase_ms;     /* fault: the first chunk of an upload is answered this much later, in real
				     * time (not scaled): a flash slow to erase the slot (0: off) */
	bool frugal_list;           /* CONFIG_MCUMGR_GRP_IMG_FRUGAL_LIST: image list without false flags and
				     * splitStatus (default off: every flag, true or false, as the seed device) */
	bool slot_info;             /* CONFIG_MCUMGR_GRP_IMG_SLOT_INFO: image command 6 (false → rc 8) */
	bool info_build_date;       /* CONFIG_MCUMGR_GRP_OS_INFO_BUILD_DATE_TIME: OS info letter "b" */
	bool no_downgrade;          /* MCUboot built with downgrade prevention (bootloader info, boot) */
	bool bootloader_info;       /* CONFIG_MCUMGR_GRP_OS_BOOTLOADER_INFO (off by default in Zephyr 4.1; false →
				     * OS command 8 has no handler: rc 8, and nothing tells MCUboot's mode) */
	bool stat;                  /* CONFIG_MCUMGR_GRP_STAT: statistics group (false → rc 8) */
	bool stat_sample;           /* smp_svr's own "smp_svr_stats" group (field "ticks") is registered */
	bool taskstat;              /* CONFIG_MCUMGR_GRP_OS_TASKSTAT (false → rc 8) */
	bool shell;                 /* CONFIG_MCUMGR_GRP_SHELL with the dummy shell backend (false → rc 8) */
	bool enumeration;           /* CONFIG_MCUMGR_GRP_ENUM (false → rc 8) */
	bool enum_details;          /* CONFIG_MCUMGR_GRP_ENUM_DETAILS with names and handler counts */
	bool fs;                    /* CONFIG_MCUMGR_GRP_FS on a file system at /lfs1, with file status and
				     * crc32 (false → rc 8) */
	bool fs_sha256;             /* ... and sha256 (CONFIG_MCUMGR_GRP_FS_HASH_SHA256) */
	bool reset_veto;            /* CONFIG_MCUMGR_GRP_OS_RESET_HOOK with an application that answers a reset
				     * MGMT_ERR_EBUSY (rc 10) unless "force" is true (without the hook the
				     * body is not read) */
	bool settings;              /* CONFIG_MCUMGR_GRP_SETTINGS with the "prov" handler of the interop fixture
				     * smp-svr-b2475-settings, on NVS (false → rc 8) */
	bool direct_xip;            /* MCUboot in direct-xip mode without revert (CONFIG_MCUBOOT_BOOTLOADER_MODE_DIRECT_XIP,
				     * MCUboot docs/design.md "Equal slots (direct-xip)"): no swap, the newest valid
				     * image of either slot boots where it lies; img_mgmt takes uploads into the slot
				     * that does not run, lists it pending and permanent when it is newer, and has no
				     * state write (rc 8). One image only (img_mgmt_active_slot: "Multi image does not
				     * support DirectXIP"); no new_image_crashes, no idle erase. */
	uint32_t slot_size;
	unsigned images;            /* CONFIG_UPDATEABLE_IMAGE_NUMBER (1 or 2): image 1 has slots 2 and 3, a factory
				     * image of its own, and the image list names every entry's image */
	uint32_t update_footer;     /* CONFIG_MCUMGR_GRP_IMG_TOO_LARGE_SYSBUILD with sysbuild's
				     * CONFIG_MCUBOOT_UPDATE_FOOTER_SIZE: uploads larger than the slot minus this
				     * are refused, slot info gives max_image_size (0: the check is off) */
	uint32_t idle_erase_ms;     /* CONFIG_SMPCTL_FW_IDLE_ERASE_SECONDARY with its delay (0: off, the
				     * firmware's default): slot 1 erased when idle after a confirmed boot */
	char app_version[32];       /* version of the factory image in slot 0, e.g. "1.0.0" */
	char hostname[32];          /* OS info "n" */
} SimConfig;

void sim_config_default(SimConfig *cfg);

typedef struct SimDevice SimDevice;

/* Creates a device whose slot 0 holds a synthetic factory image (valid MCUboot header and SHA-256 hash
 * TLV, version cfg->app_version), active and confirmed; slot 1 empty (erased). */
int sim_device_new(const SimConfig *cfg, SimDevice **out);
void sim_device_free(SimDevice *dev);

/* Called once per response frame produced by sim_device_process. */
typedef void (*SimEmitFn)(void *userdata, const uint8_t *frame, size_t len);

/* Handles one received SMP buffer (it may hold several frames, processed in order, as Zephyr's smp.c
 * does: an error answer ends the buffer, bytes after it are dropped). Emits zero or more response frames.
 * Returns the device time in µs the handling took (flash writes and erases per the nRF52833 model), which
 * the host waits (× time scale) before it delivers the responses. The buffer is cut to buf_size first,
 * as the transport's net_buf does over UDP, so a frame larger than buf_size is answered {"rc": 9} (§11);
 * hosts whose transport drops such frames silently (BLE with reassembly) drop them before calling. */
uint64_t sim_device_process(SimDevice *dev, const uint8_t *buf, size_t len, SimEmitFn emit, void *userdata);
/* The same buffer when smp_alloc_rsp() found no free net_buf for the response (all buf_count taken, the
 * request's own included): the request is not handled, and its own buffer carries {"rc": 2} (ENOMEM)
 * back (smp.c smp_on_err). A buffer without a request header is dropped unanswered. Takes no device time. */
void sim_device_answer_no_buffer(SimDevice *dev, const uint8_t *buf, size_t len, SimEmitFn emit, void *userdata);

/* The request refused with rc, unhandled, in its own buffer (smp.c smp_on_err): what a busy or failing
 * device says. A buffer without a request header is dropped unanswered. */
void sim_device_refuse(SimDevice *dev, const uint8_t *buf, size_t len, int32_t rc, SimEmitFn emit, void *userdata);

/* After a reset command was answered the device goes away. Returns true once, with the device time
 * until it answers again: ~250 ms before it drops off, then MCUboot's swap (≈20 s for 200 KiB, §13) or
 * revert, then boot. sim_device_reboot performs the slot changes (swap, revert, upload session lost). */
bool sim_device_take_reset(SimDevice *dev, uint64_t *offline_usec);
/* The request just handled was an accepted reset (before sim_device_take_reset): hosts use it to lose
 * that answer on purpose, as a radio can when the device restarts (fault knobs). */
bool sim_device_reset_requested(const SimDevice *dev);
void sim_device_reboot(SimDevice *dev);
/* The injected faults of the device model (power_loss_in_swap) are off from now on; what it is
 * (new_image_crashes, the firmware's options) stays. */
void sim_device_faults_off(SimDevice *dev);
/* Real time (µs, not scaled: a fault, not the flash model) the request just handled stalls the device on
 * top of its device time (SimConfig.slow_erase_ms); hosts add it to their wait. Returns it once. */
uint64_t sim_device_take_stall_usec(SimDevice *dev);

/* The idle erase of slot 1 (SimConfig.idle_erase_ms; firmware/src/idle-erase.c). The device keeps no
 * clock, so its host drives it with one timer. sim_device_idle_erase_plan() returns true once each time
 * the device starts the delay anew (a boot of a confirmed image, a confirm of the running one), with
 * the delay in device time: the host (re)arms its timer for it, replacing any earlier one. When the
 * timer fires, sim_device_idle_erase_step() erases the next page of slot 1 that holds data and returns
 * the device time that takes (89.7 ms): the host calls it again after that time, and a request arriving
 * meanwhile waits for the page to finish; 0 means there is nothing (more) to erase. An upload chunk
 * ends the idle erase until the next boot, and a step after that does nothing. */
bool sim_device_idle_erase_plan(SimDevice *dev, uint64_t *after_usec);
uint64_t sim_device_idle_erase_step(SimDevice *dev);
/* Pages the idle erase has erased since the last boot. */
unsigned sim_device_idle_erased_pages(const SimDevice *dev);

/* Fault knobs and introspection for hosts and tests. */
typedef struct SimSlotState {
	bool present;           /* valid image header in the slot */
	char version[32];
	uint8_t hash[64];
	size_t hash_len;
	bool pending, confirmed, active, permanent;
} SimSlotState;
void sim_device_slot_state(const SimDevice *dev, unsigned slot, SimSlotState *out);
/* Offset of the unfinished upload (0 when none). */
uint64_t sim_device_upload_offset(const SimDevice *dev);

/* A synthetic MCUboot image (header padded to 0x200, pseudo-random payload from seed, SHA-256 hash TLV)
 * of version "major.minor.revision[+build]" into buf; returns its size, or 0 when it does not fit. It
 * is the factory image in slot 0, and what tests upload. */
size_t sim_make_image(uint8_t *buf, size_t buf_size, size_t payload, const char *version, uint8_t seed);

/* Flash timing model of the nRF52833 (REFERENCE.md §14): device time to write n bytes (⌈n/4⌉ × 41 µs) and
 * erase pages (89.7 ms each). An upload with progressive erase pays each page of slot 1 when it first
 * writes there, and the last chunk also erases MCUboot's trailer page (flash_img's flush); without it,
 * the first chunk erases ⌈len/4096⌉ pages plus the trailer page, only if slot 1 holds any data. */
uint64_t sim_flash_write_usec(size_t bytes);
uint64_t sim_flash_erase_usec(size_t pages);
/* MCUboot swap-using-move of an image of n bytes: about three erase+write passes per sector (§13). */
uint64_t sim_swap_usec(size_t image_bytes);
