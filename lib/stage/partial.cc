// The partial copy: its exclusive creation, its lock, its removal.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/layout.h"
#include "stage/stage.h"
#include "system/file.h"

namespace imgroot::stage {

namespace {

bool same_file(int dir, int fd) {
  struct stat named {}, held {};
  return ::fstatat(dir, host_files::kPartial, &named, AT_SYMLINK_NOFOLLOW) == 0 && ::fstat(fd, &held) == 0 &&
         same_inode(named, held);
}

}  // namespace

Result<bool> remove_stale_partial(int dir) {
  int raw = ::openat(dir, host_files::kPartial, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (raw < 0) {
    if (errno == ENOENT) return false;
    return fail_errno("open " + quoted(host_files::kPartial));
  }
  Fd fd(raw);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
    if (errno == EWOULDBLOCK) return false;  // a running stage holds it
    return fail_errno("lock " + quoted(host_files::kPartial));
  }
  // Still the file we locked, not one a new stage created meanwhile.
  if (!same_file(dir, fd.get())) return false;
  if (auto st = remove_durably_at(dir, host_files::kPartial); !st) return std::unexpected(st.error());
  return true;
}

Result<Partial> Partial::create(int dir) {
  int raw = ::openat(dir, host_files::kPartial, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (raw < 0) {
    if (errno == EEXIST)
      return fail("another 'imgroot stage' is copying onto this host partition (" +
                  quoted(host_files::kPartial) + " is in use); wait for it to finish");
    return fail_errno("create " + quoted(host_files::kPartial));
  }
  Fd fd(raw);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
    int saved = errno;
    (void)::unlinkat(dir, host_files::kPartial, 0);  // ours, just created; the lock error matters more
    return fail_errno("lock " + quoted(host_files::kPartial), saved);
  }
  return Partial(dir, std::move(fd));
}

Result<Partial> Partial::adopt(int dir, const std::string& name) {
  if (auto st = link_at(dir, name, host_files::kPartial); !st) {
    if (st.error().code == EEXIST)
      return fail("another 'imgroot stage' is copying onto this host partition (" +
                  quoted(host_files::kPartial) + " is in use); wait for it to finish");
    return std::unexpected(st.error());
  }
  int raw = ::openat(dir, host_files::kPartial, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (raw < 0) return fail_errno("open " + quoted(host_files::kPartial));
  Fd fd(raw);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) return fail_errno("lock " + quoted(host_files::kPartial));
  return Partial(dir, std::move(fd));
}

Partial::Partial(Partial&& other) noexcept
    : dir_(other.dir_), fd_(std::move(other.fd_)), published_(other.published_) {
  other.published_ = true;  // the moved-from handle owns nothing
}

Partial::~Partial() {
  if (published_ || !fd_.valid()) return;
  // Best effort: a partial that survives is removed by the next stage or status.
  if (same_file(dir_, fd_.get())) (void)::unlinkat(dir_, host_files::kPartial, 0);
}

Status Partial::publish() {
  if (auto st = fsync_fd(fd_.get(), quoted(host_files::kPartial)); !st) return st;
  if (auto st = rename_at(dir_, host_files::kPartial, host_files::kNew); !st) return st;
  published_ = true;
  return fsync_fd(dir_, "host partition directory");
}

Result<std::pair<Partial, Copied>> copy_to_partial(int dir, const Fd& image,
                                                   const CopyControl& control) {
  auto partial = Partial::create(dir);
  if (!partial) return std::unexpected(partial.error());
  auto copied = copy_with_hash(image.get(), partial->fd().get(), host_files::kPartial, control);
  if (!copied) return std::unexpected(copied.error());  // ~Partial removes the file
  return std::pair<Partial, Copied>(std::move(*partial), std::move(*copied));
}

}  // namespace imgroot::stage
