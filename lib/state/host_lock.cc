#include "state/host_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "base/layout.h"
#include "system/file.h"

namespace imgroot::state {

namespace {

// The pid the holder wrote, 0 when there is none (yet) or it is not a number.
pid_t holder(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  return static_cast<pid_t>(std::strtol(buf, nullptr, 10));
}

Status write_pid(int fd) {
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) < 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
    return fail_errno(std::string("write ") + quoted(host_files::kLockFile));
  return {};
}

}  // namespace

Result<HostLock> HostLock::acquire(int hostpart_dir, const std::function<void(pid_t)>& waiting,
                                   const volatile std::sig_atomic_t* cancel) {
  if (auto made = make_dir_at(hostpart_dir, host_files::kStateDir, 0755); !made)
    return std::unexpected(made.error());
  auto fd = Fd::open_at(hostpart_dir, host_files::kLockFile,
                        O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY, 0644);
  if (!fd) return std::unexpected(fd.error());
  if (::flock(fd->get(), LOCK_EX | LOCK_NB) < 0) {
    if (errno != EWOULDBLOCK) return fail_errno("lock " + quoted(host_files::kLockFile));
    waiting(holder(fd->get()));
    while (::flock(fd->get(), LOCK_EX) < 0) {
      if (errno != EINTR || (cancel && *cancel))
        return fail_errno("wait for " + quoted(host_files::kLockFile));
    }
  }
  if (auto st = write_pid(fd->get()); !st) return std::unexpected(st.error());
  return HostLock(std::move(*fd));
}

}  // namespace imgroot::state
