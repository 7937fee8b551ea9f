#include "diff/warm.h"

#include <fcntl.h>
#include <sys/mman.h>
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

// How much of the file's data is in the page cache already (mincore over a
// mapping that is never touched), as a fraction of its allocated size.
double resident_fraction(int fd, const struct stat& st) {
  const auto size = static_cast<std::size_t>(st.st_size);
  const auto allocated = static_cast<double>(st.st_blocks) * 512;
  if (size == 0 || allocated == 0) return 1;
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) return 0;
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> in_core((size + page - 1) / page);
  std::size_t resident = 0;
  if (::mincore(map, size, in_core.data()) == 0)
    for (unsigned char c : in_core) resident += c & 1;
  (void)::munmap(map, size);  // a read-only mapping nothing touched
  return static_cast<double>(resident * page) / allocated;
}

}  // namespace

void ImageWarmer::start(int fd, std::uint64_t budget) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return;
  const auto allocated = static_cast<std::uint64_t>(st.st_blocks) * 512;
  if (allocated == 0 || allocated > budget) return;
  if (resident_fraction(fd, st) > 0.9) return;  // cached already: nothing to gain
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
