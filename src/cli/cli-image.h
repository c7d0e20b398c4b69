/* SPDX-License-Identifier: MIT */
/* Image files as the CLI handles them: loaded, parsed and verified before anything is sent. */
#pragma once

#include "cli.h"
#include "image.h"
#include "upload.h"

typedef struct LoadedImage {
	const char *path;
	uint8_t *data;      /* the image bytes to upload (from binary or Intel HEX) */
	size_t size;
	Image image;        /* parsed view into data */
	char version[40];   /* major.minor.revision+build */
	bool signature_checked;
} LoadedImage;

void loaded_image_clear(LoadedImage *img);
/* Reads and parses path (binary or Intel HEX); no verification. Prints why and returns EXIT_IMAGE. */
int cli_read_image(Cli *cli, const char *path, LoadedImage *out);
/* Reads path, parses it as an MCUboot image, checks its hash TLV and, with --key, its signature.
 * Prints the reason and returns an exit code (EXIT_IMAGE, EXIT_VERIFY) when it must not be sent. */
int cli_load_image(Cli *cli, const char *path, LoadedImage *out);
/* The checks of cli_load_image on an image already read and parsed into out. */
int cli_check_image(Cli *cli, LoadedImage *out);

struct CliProgress;
void cli_upload_options(Cli *cli, UploadOptions *o, struct CliProgress *progress);
int cli_check_slot_free(Cli *cli, const MgmtImageList *list, const LoadedImage *img);
int cli_verify_readback(Cli *cli, Device *d, const LoadedImage *img, MgmtImageList *list);
int cli_upload_failed(Cli *cli, Device *d, int r);
int cli_upload(Cli *cli, Device *d, const LoadedImage *img, UploadResult *res);
int cli_prepare_update(Cli *cli, LoadedImage *img, Device **d);
void cli_json_upload_stats(JsonWriter *j, const Device *d, const UploadResult *res);
/* For a rack's summary table: the version uploaded, bytes and rate (nothing outside a rack). */
void cli_outcome_upload(Cli *cli, const LoadedImage *img, const UploadResult *res);
void cli_upload_figures(const Device *d, const LoadedImage *img, const UploadResult *res, char *out, size_t size);
