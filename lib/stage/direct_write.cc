#include "stage/direct_write.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>

namespace imgroot::stage {

namespace {

bool aligned(std::size_t n) { return n % DirectWriter::kAlign == 0; }

}  // namespace

DirectWriter::DirectWriter(int dest, std::string dest_name)
    : dest_(dest), dest_name_(std::move(dest_name)) {
  // Only an optimisation: a filesystem without O_DIRECT is written through the cache.
  int flags = ::fcntl(dest_, F_GETFL);
  direct_ = flags >= 0 && ::fcntl(dest_, F_SETFL, flags | O_DIRECT) == 0;
}

Status DirectWriter::write(const unsigned char* data, std::size_t n, off_t offset) {
  if (direct_ && !(aligned(n) && aligned(static_cast<std::size_t>(offset)) &&
                   aligned(reinterpret_cast<std::uintptr_t>(data))))
    if (auto st = stop_bypassing_cache(); !st) return st;
  std::size_t written = 0;
  while (written < n) {
    ssize_t w = ::pwrite(dest_, data + written, n - written, offset + static_cast<off_t>(written));
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EINVAL && direct_) {  // the device wants another alignment
        if (auto st = stop_bypassing_cache(); !st) return st;
        continue;
      }
      return fail_errno("write " + quoted(dest_name_));
    }
    written += static_cast<std::size_t>(w);
    if (direct_ && written < n && !aligned(written))
      if (auto st = stop_bypassing_cache(); !st) return st;
  }
  return {};
}

Status DirectWriter::stop_bypassing_cache() {
  int flags = ::fcntl(dest_, F_GETFL);
  if (flags < 0 || ::fcntl(dest_, F_SETFL, flags & ~O_DIRECT) < 0)
    return fail_errno("write " + quoted(dest_name_) + " through the page cache");
  direct_ = false;
  return {};
}

}  // namespace imgroot::stage
