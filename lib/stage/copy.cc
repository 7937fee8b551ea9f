#include "stage/copy.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "image/sha256.h"
#include "stage/pipeline.h"

namespace imgroot::stage {

namespace {

// Hashes the blocks a pipeline reads, in order; holes read as zeros and are
// hashed without any I/O.
class Pass {
 public:
  Pass(Sha256 sha, off_t size, const CopyControl& control, Pipeline& pipeline)
      : sha_(std::move(sha)), size_(size), control_(control), pipeline_(pipeline),
        zeros_(Pipeline::kBlock) {}

  Status run() {
    for (;;) {
      auto block = pipeline_.next();
      if (!block) return std::unexpected(block.error());
      if (!*block) break;
      if ((*block)->data.empty()) {
        if (auto st = hole((*block)->size); !st) return st;
        pipeline_.release();
      } else {
        sha_.update((*block)->data);
        data_bytes_ += (*block)->size;
        pipeline_.release();
        if (auto st = step((*block)->size); !st) return st;
      }
    }
    return pipeline_.finish();
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

  Status hole(std::size_t length) {
    while (length > 0) {
      auto n = std::min(length, zeros_.size());
      sha_.update(std::span(zeros_.data(), n));
      length -= n;
      if (auto st = step(n); !st) return st;
    }
    return {};
  }

  Sha256 sha_;
  off_t size_;
  const CopyControl& control_;
  Pipeline& pipeline_;
  std::vector<unsigned char> zeros_;
  std::uint64_t done_ = 0;
  std::uint64_t data_bytes_ = 0;
};

Result<off_t> size_of(int fd, const std::string& what) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return fail_errno("stat " + what);
  return st.st_size;
}

// Hash 'source' (named 'what' in messages) and, when 'dest' is not -1, copy
// it there.
Result<Copied> hash_pass(int source, const std::string& what, int dest,
                         const std::string& dest_name, const CopyControl& control) {
  auto size = size_of(source, what);
  if (!size) return std::unexpected(size.error());
  auto sha = Sha256::create();
  if (!sha) return std::unexpected(sha.error());
  auto pipeline = Pipeline::start(source, what, *size, dest, dest_name);
  if (!pipeline) return std::unexpected(pipeline.error());
  Pass pass(std::move(*sha), *size, control, **pipeline);
  if (auto st = pass.run(); !st) return std::unexpected(st.error());
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

// After a reflink the copy shares the source's extents: nothing was read or
// written, and hashing would read the whole image, making an instant stage
// take as long as a copy. So it is hashed only when asked, and then the copy
// itself is read (what is staged, even if the source changes meanwhile).
Result<Copied> reflinked(int dest, const CopyControl& control) {
  Copied out;
  if (control.hash_reflink) {
    auto hashed = hash_pass(dest, "the reflinked copy", -1, "", control);
    if (!hashed) return hashed;
    out = std::move(*hashed);
  } else {
    auto size = size_of(dest, "the reflinked copy");
    if (!size) return std::unexpected(size.error());
    out.size = static_cast<std::uint64_t>(*size);
    if (control.progress) control.progress(out.size, out.size);
  }
  out.reflinked = true;
  return out;
}

}  // namespace

Result<Copied> copy_with_hash(int source, int dest, const std::string& dest_name,
                              const CopyControl& control) {
  if (control.allow_reflink) {
    auto cloned = try_reflink(source, dest, dest_name);
    if (!cloned) return std::unexpected(cloned.error());
    if (*cloned) return reflinked(dest, control);
  }
  auto copied = hash_pass(source, "the source", dest, dest_name, control);
  if (!copied) return copied;
  // Trailing holes: the length is set, not written.
  if (::ftruncate(dest, static_cast<off_t>(copied->size)) < 0)
    return fail_errno("set the size of " + quoted(dest_name));
  return copied;
}

Result<std::string> hash_file(int fd, const CopyControl& control) {
  auto hashed = hash_pass(fd, "the file", -1, "", control);
  if (!hashed) return std::unexpected(hashed.error());
  return hashed->sha256;
}

}  // namespace imgroot::stage
