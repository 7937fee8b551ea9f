// What the errno of a failed namespace, loop device or mount usually means,
// as advice appended to the error's message. One wording for stage, diff
// and try.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace imgroot {

// EPERM, EACCES: "<message>; <who> needs root", with " (or <way_out>)" when
// there is another way; any other error: its message as it is.
std::string with_root_hint(const Error& e, std::string_view who, std::string_view way_out = {});

// For attaching an image to a loop device and mounting it: the root hint;
// ENOENT, ENXIO: "; this machine has no loop devices (modprobe loop[, or
// <way_out>])"; ENODEV: "; this kernel cannot mount that filesystem type".
std::string with_mount_hint(const Error& e, std::string_view who, std::string_view way_out = {});

}  // namespace imgroot
