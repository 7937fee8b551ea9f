// Mount options that keep a read-only mount of an image from writing
// anything to it: no journal or log replay.
#pragma once

#include <string>

#include "system/detached_mount.h"

namespace imgroot {

// For fsconfig (system/detached_mount.h).
inline DetachedMountOptions no_replay_options(const std::string& fs_type) {
  DetachedMountOptions o;
  if (fs_type == "ext3" || fs_type == "ext4") o.flags.push_back("noload");
  if (fs_type == "xfs") o.flags.push_back("norecovery");
  if (fs_type == "btrfs") o.strings.emplace_back("rescue", "nologreplay");
  return o;
}

// The same as mount(2) data.
inline std::string no_replay_data(const std::string& fs_type) {
  if (fs_type == "ext3" || fs_type == "ext4") return "noload";
  if (fs_type == "xfs") return "norecovery";
  if (fs_type == "btrfs") return "rescue=nologreplay";
  return "";
}

}  // namespace imgroot
