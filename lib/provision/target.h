// The disk `imgroot provision` is asked to write: a whole block device or
// a disk image file, what it is, and what is on it now.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "base/error.h"
#include "dev/disk_contents.h"
#include "system/kernel_paths.h"

namespace imgroot::provision {

// What provision reads besides mounts and /sys/block, and where it makes
// device nodes and GRUB's files.
struct SystemPaths : KernelPaths {
  std::string swaps = "/proc/swaps";
  std::string sys_dev_block = "/sys/dev/block";
  std::string dev = "/dev";
  // Where partition nodes are made when /dev has none (no devtmpfs, no
  // udev): a private directory under it, removed afterwards.
  std::string node_dir_base = "/dev";
  // Where GRUB's files are put together before they are copied to EFI-BOOT.
  std::string work_dir_base = "/tmp";
};

struct Target {
  enum class Kind { kFile, kBlockDevice };
  std::string path;  // as given
  Kind kind = Kind::kFile;
  std::uint64_t size = 0;  // bytes
  dev_t dev = 0;           // a file: the device it is on (st_dev)
  ino_t ino = 0;           // a file: its inode
  dev_t rdev = 0;          // a block device: its number
  std::string sys_name;    // a block device: its name under /sys/block ("sdb", "loop3")
  std::string model;       // a block device: vendor and model, when sysfs has them
  bool partitionable = true;  // false: the kernel keeps no partitions for it
  DiskContents contents;   // what is on it now

  bool is_file() const { return kind == Kind::kFile; }
  // A file target that 'st' is (the same inode on the same filesystem).
  bool is_file_of(const struct stat& st) const {
    return is_file() && st.st_dev == dev && st.st_ino == ino;
  }
};

// Open 'path' for reading and describe it. Refuses what cannot become a
// disk: a partition (the whole disk is wanted), a read-only device, a
// directory, a character device.
Result<Target> open_target(const std::string& path, const SystemPaths& paths);

// Refuses a block device the kernel keeps no partitions for (a loop device
// attached without partition scanning).
Status check_partitionable(const Target& target);

// "major:minor", as sysfs writes device numbers.
std::string devno_text(dev_t devno);
// Parse sysfs's "major:minor\n".
std::optional<dev_t> parse_devno(const std::string& text);

}  // namespace imgroot::provision
