#include "host_lock.h"

#include <iostream>
#include <string>

#include "base/layout.h"

namespace imgroot::cli {

Result<state::HostLock> lock_hostpart(const state::Hostpart& hostpart,
                                      const volatile std::sig_atomic_t* cancel) {
  auto lock = state::HostLock::acquire(
      hostpart.dir.get(),
      [&hostpart](pid_t holder) {
        std::cerr << "imgroot: waiting for another imgroot"
                  << (holder > 0 ? " (pid " + std::to_string(holder) + ")" : std::string())
                  << " holding " << hostpart.path << "/" << host_files::kLockFile << "\n";
      },
      cancel);
  if (!lock) return std::unexpected(std::move(lock.error()).context("host partition"));
  return lock;
}

}  // namespace imgroot::cli
