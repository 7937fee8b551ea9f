#include "diff/warm.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

namespace imgroot::diff {

namespace {

constexpr std::size_t kChunk = 1 << 20;

// Read every data extent of the file (SEEK_DATA/SEEK_HOLE: holes are not
// read) from start to end. Plain sequential reads keep the disk streaming
// with a short queue, so the walk's own reads are not stuck behind a
// flood of read-ahead; a stop request is seen after each chunk.
void warm(std::stop_token stop, int fd) {
  std::vector<char> buf(kChunk);
  off_t at = 0;
  while (!stop.stop_requested()) {
    const off_t data = ::lseek(fd, at, SEEK_DATA);
    if (data < 0) return;  // ENXIO: no data after 'at'
    const off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) return;
    for (at = data; at < hole && !stop.stop_requested();) {
      const auto want = static_cast<std::size_t>(std::min<off_t>(hole - at, kChunk));
      const ssize_t n = ::pread(fd, buf.data(), want, at);
      if (n <= 0) return;  // only a hint: stop at the first problem
      at += n;
    }
  }
}

}  // namespace

void ImageWarmer::start(int fd, std::uint64_t budget) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return;
  const auto allocated = static_cast<std::uint64_t>(st.st_blocks) * 512;
  if (allocated == 0 || allocated > budget) return;
  thread_ = std::jthread(warm, fd);
}

std::uint64_t ImageWarmer::default_budget() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  std::uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit) {
    if (key == "MemAvailable:") return kib * 1024 / 4;
  }
  return 0;
}

}  // namespace imgroot::diff
