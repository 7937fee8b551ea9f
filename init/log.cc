#include "log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>

#include "base/log_records.h"
#include "system/fd.h"
#include "system/file.h"

namespace imgroot::init {

namespace {

constexpr const char* kDevkmsgControl = "/proc/sys/kernel/printk_devkmsg";
constexpr const char* kPrintkLevels = "/proc/sys/kernel/printk";

Fd g_kmsg;
std::string g_saved_devkmsg;  // e.g. "ratelimit"; empty when we did not change it
int g_console_loglevel = 0;   // the kernel prints kmsg lines below this on the console

// Whether all of 'line' was written. Logging must never stop the boot: the
// caller may try another way, and otherwise drops the line.
bool write_line(int fd, const std::string& line) {
  return ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
}

}  // namespace

void open_log(bool take_console) {
  if (auto console = Fd::open("/dev/console", O_RDWR | O_NOCTTY); take_console && console) {
    for (int std_fd = 0; std_fd <= 2; ++std_fd) (void)::dup2(console->get(), std_fd);
  }
  if (auto kmsg = Fd::open("/dev/kmsg", O_WRONLY); kmsg) g_kmsg = std::move(*kmsg);

  if (auto levels = read_file(kPrintkLevels); levels) g_console_loglevel = std::atoi(levels->c_str());
  if (auto current = read_file(kDevkmsgControl); current && !current->starts_with("on")) {
    if (auto fd = Fd::open(kDevkmsgControl, O_WRONLY); fd) {
      (void)write_line(fd->get(), "on\n");  // still logging, only rate-limited
      g_saved_devkmsg = *current;
    }
  }
}

void close_log() {
  if (g_saved_devkmsg.empty()) return;
  if (auto fd = Fd::open(kDevkmsgControl, O_WRONLY); fd)
    (void)write_line(fd->get(), g_saved_devkmsg);  // nothing better to do at the exec
  g_saved_devkmsg.clear();
}

void log(Level level, const std::string& message) {
  const std::string line = "imgroot-init: " + message + "\n";
  bool kernel_prints_it = false;
  if (g_kmsg.valid()) {
    // kmsg takes about 1 KiB per write: a long line goes as several records.
    bool written = true;
    const std::string head = "<" + std::to_string(static_cast<int>(level)) + ">imgroot-init: ";
    for (const auto& record : log_records(head, message))
      written = write_line(g_kmsg.get(), record) && written;
    kernel_prints_it = written && static_cast<int>(level) < g_console_loglevel;
  }
  if (!kernel_prints_it) (void)write_line(STDERR_FILENO, line);  // nowhere else to say it
}

long long now_ms() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace imgroot::init
