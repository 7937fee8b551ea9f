#include "stage/copy.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "image/sha256.h"

namespace imgroot::stage {

namespace {

constexpr std::size_t kChunk = 4u << 20;

struct Extent {
  off_t start;
  off_t end;
};

// The next data extent at or after 'pos', clamped to 'size'; nullopt when
// only holes remain. Filesystems without SEEK_DATA report everything as data.
Result<std::optional<Extent>> next_data(int fd, off_t pos, off_t size) {
  off_t data = ::lseek(fd, pos, SEEK_DATA);
  if (data < 0) {
    if (errno == ENXIO) return std::nullopt;
    if (errno == EINVAL || errno == EOPNOTSUPP) return Extent{pos, size};
    return fail_errno("find data in the source");
  }
  if (data >= size) return std::nullopt;
  off_t hole = ::lseek(fd, data, SEEK_HOLE);
  if (hole < 0) return fail_errno("find a hole in the source");
  return Extent{data, std::min(hole, size)};
}

// Hashes (and, given a destination, writes) a file extent by extent.
class Pass {
 public:
  Pass(Sha256 sha, off_t size, const CopyControl& control)
      : sha_(std::move(sha)), size_(size), control_(control), buf_(kChunk), zeros_(kChunk) {}

  Status run(int source, int dest, const std::string& dest_name) {
    off_t pos = 0;
    while (pos < size_) {
      auto extent = next_data(source, pos, size_);
      if (!extent) return std::unexpected(extent.error());
      off_t data_start = *extent ? (*extent)->start : size_;
      if (auto st = hole(data_start - pos); !st) return st;
      if (!*extent) break;
      if (auto st = data(source, dest, dest_name, **extent); !st) return st;
      pos = (*extent)->end;
    }
    return {};
  }

  std::uint64_t data_bytes() const { return data_bytes_; }
  std::string finish() { return sha_.finish_hex(); }

 private:
  Status step(std::size_t n) {
    done_ += n;
    if (control_.progress) control_.progress(done_, static_cast<std::uint64_t>(size_));
    if (control_.cancel && *control_.cancel) return fail("interrupted by a signal");
    return {};
  }

  // A hole reads as zeros: hash them without any I/O.
  Status hole(off_t length) {
    while (length > 0) {
      auto n = static_cast<std::size_t>(std::min<off_t>(length, kChunk));
      sha_.update(std::span(zeros_.data(), n));
      length -= static_cast<off_t>(n);
      if (auto st = step(n); !st) return st;
    }
    return {};
  }

  Status data(int source, int dest, const std::string& dest_name, Extent extent) {
    for (off_t off = extent.start; off < extent.end;) {
      auto want = static_cast<std::size_t>(std::min<off_t>(extent.end - off, kChunk));
      ssize_t n = ::pread(source, buf_.data(), want, off);
      if (n < 0) {
        if (errno == EINTR) {
          if (auto st = step(0); !st) return st;
          continue;
        }
        return fail_errno("read the source");
      }
      if (n == 0) return fail("read the source: it shrank while being copied");
      auto got = static_cast<std::size_t>(n);
      sha_.update(std::span(buf_.data(), got));
      if (dest >= 0) {
        if (auto st = write_at(dest, dest_name, got, off); !st) return st;
      }
      off += n;
      data_bytes_ += got;
      if (auto st = step(got); !st) return st;
    }
    return {};
  }

  Status write_at(int dest, const std::string& dest_name, std::size_t n, off_t off) {
    std::size_t written = 0;
    while (written < n) {
      ssize_t w = ::pwrite(dest, buf_.data() + written, n - written,
                           off + static_cast<off_t>(written));
      if (w < 0) {
        if (errno == EINTR) continue;
        return fail_errno("write " + quoted(dest_name));
      }
      written += static_cast<std::size_t>(w);
    }
    return {};
  }

  Sha256 sha_;
  off_t size_;
  const CopyControl& control_;
  std::vector<unsigned char> buf_;
  std::vector<unsigned char> zeros_;
  std::uint64_t done_ = 0;
  std::uint64_t data_bytes_ = 0;
};

Result<off_t> size_of(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return fail_errno("stat the source");
  return st.st_size;
}

Result<Copied> hash_pass(int source, int dest, const std::string& dest_name,
                         const CopyControl& control) {
  auto size = size_of(source);
  if (!size) return std::unexpected(size.error());
  auto sha = Sha256::create();
  if (!sha) return std::unexpected(sha.error());
  // Only advice: the copy is correct without it.
  (void)::posix_fadvise(source, 0, 0, POSIX_FADV_SEQUENTIAL);
  Pass pass(std::move(*sha), *size, control);
  if (auto st = pass.run(source, dest, dest_name); !st) return std::unexpected(st.error());
  Copied out;
  out.size = static_cast<std::uint64_t>(*size);
  out.data_bytes = pass.data_bytes();
  out.sha256 = pass.finish();
  return out;
}

// FICLONE shares the source's extents: instant, and no space used. Errors
// that mean "not here" (other filesystem, no reflink support) fall back.
Result<bool> try_reflink(int source, int dest, const std::string& dest_name) {
  if (::ioctl(dest, FICLONE, source) == 0) return true;
  switch (errno) {
    case EXDEV: case EOPNOTSUPP: case ENOTTY: case EINVAL: case ENOSYS: case EPERM:
      if (::ftruncate(dest, 0) < 0) return fail_errno("truncate " + quoted(dest_name));
      return false;
    default:
      return fail_errno("reflink the source to " + quoted(dest_name));
  }
}

}  // namespace

Result<Copied> copy_with_hash(int source, int dest, const std::string& dest_name,
                              const CopyControl& control) {
  if (control.allow_reflink) {
    auto cloned = try_reflink(source, dest, dest_name);
    if (!cloned) return std::unexpected(cloned.error());
    if (*cloned) {
      auto hashed = hash_pass(source, -1, dest_name, control);
      if (!hashed) return hashed;
      hashed->reflinked = true;
      return hashed;
    }
  }
  auto copied = hash_pass(source, dest, dest_name, control);
  if (!copied) return copied;
  // Trailing holes: the length is set, not written.
  if (::ftruncate(dest, static_cast<off_t>(copied->size)) < 0)
    return fail_errno("set the size of " + quoted(dest_name));
  return copied;
}

Result<std::string> hash_file(int fd, const CopyControl& control) {
  auto hashed = hash_pass(fd, -1, "", control);
  if (!hashed) return std::unexpected(hashed.error());
  return hashed->sha256;
}

}  // namespace imgroot::stage
