# SPDX-License-Identifier: MIT
# As Zephyr's nrf52833dk: the nRF52833's devicetree has peripherals that share an address on purpose
# (clock/power at 0x40000000, acl/flash-controller at 0x4001e000), which dtc would warn about.
list(APPEND EXTRA_DTC_FLAGS "-Wno-unique_unit_address_if_enabled")
