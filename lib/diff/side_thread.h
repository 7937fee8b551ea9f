// A second thread for tree B, so that A and B are read at the same time:
// each image sits behind its own loop device, whose requests are served
// one at a time, so two readers wait half as long. The thread has its own
// working directory (unshare(CLONE_FS)), which reading xattrs relies on
// (diff/node.h).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace imgroot::diff {

class SideThread {
 public:
  SideThread();
  ~SideThread();  // joins
  SideThread(const SideThread&) = delete;
  SideThread& operator=(const SideThread&) = delete;

  // Start 'job' on the thread (or, when it could not start, run it here).
  // One job at a time: wait() before the next.
  void start(std::function<void()> job);
  void wait();

 private:
  void loop();

  std::mutex mutex_;
  std::condition_variable cv_;
  std::function<void()> job_;
  bool busy_ = false, stopping_ = false, ready_ = false, usable_ = false;
  std::thread thread_;
};

}  // namespace imgroot::diff
