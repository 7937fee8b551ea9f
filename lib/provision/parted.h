// Writing the partition table with libparted. This is the one file that
// talks to libparted, and so the one that adapts its exception handler:
// what libparted would ask or print becomes the message of an Error.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "provision/layout.h"

namespace imgroot::provision {

struct GptEntry {
  Extent extent;        // bytes; whole sectors of the device
  std::string name;     // the GPT partition name
  std::string fs_type;  // libparted's name ("fat32", "ext4", ...): sets the type GUID
  bool esp = false;     // the EFI system partition flag (its type GUID)
};

// Replace whatever partition table 'device' (a block device) has with a
// new GPT holding 'entries' at exactly their extents, numbered in order
// from 1, and flush it to the device. The kernel's view of the partitions
// is not touched here (see partitions.h). Any error or warning libparted
// raises fails the call with its text.
Status write_gpt(const std::string& device, const std::vector<GptEntry>& entries);

}  // namespace imgroot::provision
