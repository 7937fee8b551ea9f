// Writing blocks of a copy, bypassing the page cache (O_DIRECT) where the
// destination allows it and the block is aligned, and through it otherwise.
// A staged image is written once and read only by the next boot: caching it
// would evict what the running system uses, and the dirty pages of a
// multi-GiB copy make the kernel throttle the writer and leave all the work
// to the final fsync.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "base/error.h"

namespace imgroot::stage {

class DirectWriter {
 public:
  // What O_DIRECT asks of buffers, offsets and lengths on the filesystems
  // imgroot stages onto (logical blocks of 512 or 4096 bytes).
  static constexpr std::size_t kAlign = 4096;

  // 'dest' is open for writing; 'dest_name' names it in messages. Sets
  // O_DIRECT on it when the filesystem takes it.
  DirectWriter(int dest, std::string dest_name);

  // Write all of 'n' bytes at 'offset'. A block that is not aligned, or that
  // the device refuses (EINVAL), goes through the page cache, and so does
  // everything after it.
  Status write(const unsigned char* data, std::size_t n, off_t offset);

  bool direct() const { return direct_; }

 private:
  Status stop_bypassing_cache();

  int dest_;
  std::string dest_name_;
  bool direct_ = false;
};

}  // namespace imgroot::stage
