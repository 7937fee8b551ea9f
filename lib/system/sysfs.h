// Reading the kernel's sysfs: attributes, and which block devices are never
// a disk of the host (loop and RAM disks).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace imgroot {

// A sysfs attribute ("/sys/block/sdb/ro"), without the newline and the
// padding sysfs puts around values; empty when it is not there.
std::string sysfs_attribute(const std::string& path);
// A decimal sysfs attribute; 0 when it is missing or not a number.
std::uint64_t sysfs_number(const std::string& path);

// A loop device or a RAM disk (ram*, zram*), by its name under
// /sys/class/block: it never holds the host partition, so the init neither
// probes it nor lists it among the disks it saw.
bool is_loop_or_ram_disk(std::string_view name);

}  // namespace imgroot
