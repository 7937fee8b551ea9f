// PID 1 of `imgroot try`'s PID namespace.
#pragma once

#include <csignal>
#include <string>
#include <vector>

#include "try/try.h"

namespace imgroot::try_ {

// The signals the init and the caller of run() forward to the command.
inline constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

// Start the command (resolved through PATH from its environment), forward
// kForwarded to it, reap every child, and exit with the command's status
// when it ends (the kernel then kills whatever else is left in the
// namespace). When the command cannot be started, why is written to
// 'report_fd' and the exit status is 127. Expects kForwarded and SIGCHLD
// blocked. Never returns.
[[noreturn]] void run_init(const Request& request, int report_fd);

// Replace the calling process (PID 1) with the image's request.init, the
// signal mask and dispositions reset. When it cannot be started, why is
// written to 'report_fd' and the exit status is 127.
[[noreturn]] void exec_image_init(const Request& request, int report_fd);

}  // namespace imgroot::try_
