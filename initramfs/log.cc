#include "log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>

#include "system/fd.h"
#include "system/file.h"

namespace imgroot::init {

namespace {

constexpr const char* kDevkmsgControl = "/proc/sys/kernel/printk_devkmsg";
constexpr const char* kPrintkLevels = "/proc/sys/kernel/printk";

Fd g_kmsg;
std::string g_saved_devkmsg;  // e.g. "ratelimit"; empty when we did not change it
int g_console_loglevel = 0;   // the kernel prints kmsg lines below this on the console

void write_line(int fd, const std::string& line) {
  // Logging must never stop the boot: a failed write is dropped.
  (void)!::write(fd, line.data(), line.size());
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
      write_line(fd->get(), "on\n");
      g_saved_devkmsg = *current;
    }
  }
}

void close_log() {
  if (g_saved_devkmsg.empty()) return;
  if (auto fd = Fd::open(kDevkmsgControl, O_WRONLY); fd) write_line(fd->get(), g_saved_devkmsg);
  g_saved_devkmsg.clear();
}

void log(Level level, const std::string& message) {
  const std::string line = "imgroot-init: " + message + "\n";
  bool kernel_prints_it = false;
  if (g_kmsg.valid()) {
    write_line(g_kmsg.get(), "<" + std::to_string(static_cast<int>(level)) + ">" + line);
    kernel_prints_it = static_cast<int>(level) < g_console_loglevel;
  }
  if (!kernel_prints_it) write_line(STDERR_FILENO, line);
}

long long now_ms() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace imgroot::init
