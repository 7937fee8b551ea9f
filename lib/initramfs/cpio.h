// An in-memory "newc" cpio archive (the format the kernel unpacks into its
// initramfs, see the kernel's Documentation/driver-api/early-userspace/
// buffer-format.rst), written so that the same contents always give the same
// bytes: entries sorted by path (a parent is a prefix of its children, so it
// comes first), inode numbers counted in that order, uid/gid 0, one mtime
// for all, and missing parent directories added as 0755.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/error.h"

namespace imgroot::initramfs {

class CpioArchive {
 public:
  // Paths are absolute or relative to the archive's root ("/init" and "init"
  // are the same entry); "." and ".." components are refused, and so is a
  // first component named TRAILER!!! (the end-of-archive record); names and
  // symlink targets cannot hold a NUL byte. `perm` is the
  // permission bits only (07777).
  Status add_directory(std::string_view path, mode_t perm = 0755);
  Status add_file(std::string_view path, std::string content, mode_t perm = 0644);
  Status add_symlink(std::string_view path, std::string target);
  Status add_char_device(std::string_view path, mode_t perm, unsigned major, unsigned minor);

  size_t size() const { return entries_.size(); }

  // The archive, ending with the TRAILER!!! record; every entry stamped with
  // `mtime` (seconds since the epoch).
  Result<std::string> serialize(uint32_t mtime) const;

 private:
  struct Entry {
    mode_t mode = 0;      // type and permission bits
    std::string data;     // file contents or symlink target
    unsigned rdev_major = 0;
    unsigned rdev_minor = 0;
    bool implicit = false;  // a parent directory nobody asked for
  };

  Status add(std::string_view path, Entry entry);
  Status add_parents(const std::string& path);

  std::map<std::string, Entry> entries_;  // by normalized path, no leading '/'
};

}  // namespace imgroot::initramfs
