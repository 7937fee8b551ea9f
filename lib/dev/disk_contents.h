// What is on a disk now, through libblkid: its partition table and the
// filesystem on each partition, or a filesystem on the whole disk. For
// saying what `imgroot provision` will erase; nothing here writes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace imgroot {

struct FoundFilesystem {
  std::string type;   // "ext4", "vfat", ...
  std::string label;  // empty when it has none
};

struct FoundPartition {
  int number = 0;
  std::uint64_t start = 0;  // bytes
  std::uint64_t size = 0;   // bytes
  std::string name;         // the GPT partition name, when there is one
  std::optional<FoundFilesystem> fs;
};

struct DiskContents {
  std::string table;  // "gpt", "dos", ...; empty when there is none
  std::vector<FoundPartition> partitions;
  std::optional<FoundFilesystem> whole_disk_fs;  // a filesystem without a partition table
  bool ambiguous = false;  // signatures that contradict each other were found
  bool blank() const { return table.empty() && !whole_disk_fs && !ambiguous; }
};

// Read the table and probe each partition's filesystem. 'fd' is the disk
// (block device or image file), opened for reading.
Result<DiskContents> probe_disk_contents(int fd);

}  // namespace imgroot
