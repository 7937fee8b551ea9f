// A move-only owner of a file descriptor, and the fd-relative calls the rest
// of imgroot is written in ("fd first, path second", O_CLOEXEC always).
#pragma once

#include <sys/stat.h>

#include <string>

#include "base/error.h"

namespace imgroot {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release();

  // openat(dir, path, flags | O_CLOEXEC, mode). dir may be AT_FDCWD.
  static Result<Fd> open_at(int dir, const std::string& path, int flags, mode_t mode = 0);
  static Result<Fd> open(const std::string& path, int flags, mode_t mode = 0);
  // An O_RDONLY|O_DIRECTORY handle, the dir of *_at calls (and fsync-able: O_PATH is not).
  static Result<Fd> open_dir(const std::string& path, int dir = -100 /* AT_FDCWD */);

 private:
  int fd_ = -1;
};

}  // namespace imgroot
