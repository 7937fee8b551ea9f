// Reading an image file into the page cache from start to end, in a
// thread, while the walk reads the filesystem on it. A loop device
// serves one read of its backing file at a time, so the walk's small
// scattered reads of a cold image wait for the disk one by one; read in
// order here, the same data arrives at the disk's streaming rate and the
// loop device finds most of it in the cache. Only when a full comparison will read
// (nearly) every data block anyway, and only when the image's allocated
// size fits comfortably in the memory available.
#pragma once

#include <cstdint>
#include <thread>

namespace imgroot::diff {

class ImageWarmer {
 public:
  ImageWarmer() = default;
  // Start warming the image behind 'fd' (which must stay open while this
  // lives) when its allocated size is at most 'budget' bytes and less than
  // 90% of it is in the page cache already.
  void start(int fd, std::uint64_t budget);

  // A quarter of MemAvailable (/proc/meminfo), 0 when it cannot be read.
  static std::uint64_t default_budget();

 private:
  std::jthread thread_;  // stops and joins on destruction
};

}  // namespace imgroot::diff
