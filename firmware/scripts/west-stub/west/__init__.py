# SPDX-License-Identifier: MIT
# Stand-in for the west package, used by firmware/build.sh only when west is not installed: Zephyr
# 4.1's cmake/mcuboot.cmake refuses to sign unless `python3 -m west topdir` works (it then calls
# imgtool itself). Only `topdir` and `--version` are implemented; build.sh sets ZEPHYR_MODULES so
# that nothing asks for `west list`.
