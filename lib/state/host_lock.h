// The host partition's lock (host_files::kLockFile, imgroot/lock): every
// verb that reads, checks and writes the image names, imgroot/state.json or
// GRUB's grubenv holds it for the whole of that, so two verbs never
// interleave (a stage publishing while mark-good ends the trial it saw).
#pragma once

#include <sys/types.h>

#include <csignal>
#include <functional>

#include "base/error.h"
#include "base/layout.h"
#include "system/fd.h"

namespace imgroot::state {

class HostLock {
 public:
  // flock(LOCK_EX) on imgroot/lock in 'hostpart_dir' (both created when
  // missing). When another process holds it, 'waiting' is told its pid (0
  // when unknown) once, and the call blocks until the lock is free. The
  // holder's pid is written into the file for the next one to name. A
  // signal that sets *cancel ends the wait with an error (EINTR).
  static Result<HostLock> acquire(int hostpart_dir, const std::function<void(pid_t)>& waiting,
                                  const volatile std::sig_atomic_t* cancel = nullptr);

  HostLock(HostLock&&) noexcept = default;
  HostLock& operator=(HostLock&&) noexcept = default;
  // Closing the file releases the lock; the file stays (removing it would
  // let a waiter lock a file the next one no longer sees).
  ~HostLock() = default;

 private:
  explicit HostLock(Fd fd) : fd_(std::move(fd)) {}
  Fd fd_;
};

}  // namespace imgroot::state
