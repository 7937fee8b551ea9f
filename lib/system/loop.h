// A loop device bound to a file, configured in one step (LOOP_CONFIGURE) with
// autoclear: the kernel detaches it when the last user goes, so a crash of
// the process that attached it never leaks it.
#pragma once

#include <string>

#include "base/error.h"
#include "system/fd.h"

namespace imgroot {

class LoopDevice {
 public:
  // Attach 'file' (an open fd of the backing file). read_only selects
  // LO_FLAGS_READ_ONLY; the device then refuses writes whatever the file's mode.
  // scan_partitions selects LO_FLAGS_PARTSCAN: the device can then carry
  // partitions (/dev/loopNpM), found by the kernel's own scan or added with
  // BLKPG; they go away with the device.
  static Result<LoopDevice> attach(const Fd& file, bool read_only, bool scan_partitions = false);

  const std::string& path() const { return path_; }  // /dev/loopN
  const Fd& fd() const { return fd_; }

  // Closing the last fd of an autoclear device that is not mounted detaches
  // it; once something is mounted on it, it stays until that is unmounted.
  // The destructor just closes.

 private:
  LoopDevice(Fd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  Fd fd_;
  std::string path_;
};

}  // namespace imgroot
