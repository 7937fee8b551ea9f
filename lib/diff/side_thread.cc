#include "diff/side_thread.h"

#include <sched.h>

namespace imgroot::diff {

SideThread::SideThread() {
  thread_ = std::thread([this] { loop(); });
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [this] { return ready_; });
}

SideThread::~SideThread() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void SideThread::loop() {
  const bool own_cwd = ::unshare(CLONE_FS) == 0;
  std::unique_lock lock(mutex_);
  usable_ = own_cwd;
  ready_ = true;
  cv_.notify_all();
  if (!own_cwd) return;  // sharing the working directory would break xattrs
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || busy_; });
    if (stopping_) return;
    lock.unlock();
    job_();
    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

void SideThread::start(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    if (usable_) {
      job_ = std::move(job);
      busy_ = true;
      cv_.notify_all();
      return;
    }
  }
  job();
}

void SideThread::wait() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [this] { return !busy_; });
}

}  // namespace imgroot::diff
