#include "system/fd.h"

#include <fcntl.h>
#include <unistd.h>

namespace imgroot {

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) (void)::close(fd_);  // nothing useful to do on a failed close of a reader
    fd_ = other.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) (void)::close(fd_);  // writers fsync explicitly before letting go
}

int Fd::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

Result<Fd> Fd::open_at(int dir, const std::string& path, int flags, mode_t mode) {
  int fd = ::openat(dir, path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return fail_errno("open " + quoted(path));
  return Fd(fd);
}

Result<Fd> Fd::open(const std::string& path, int flags, mode_t mode) {
  return open_at(AT_FDCWD, path, flags, mode);
}

Result<Fd> Fd::open_dir(const std::string& path, int dir) {
  return open_at(dir, path, O_RDONLY | O_DIRECTORY);
}

}  // namespace imgroot
