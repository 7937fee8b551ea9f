#include "rescue.h"

#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/layout.h"
#include "log.h"

namespace imgroot::init {

namespace {

using initramfs_paths::kShell;

void run_shell() {
  pid_t pid = ::fork();
  if (pid == 0) {
    (void)::setsid();
    (void)::ioctl(STDIN_FILENO, TIOCSCTTY, 1);  // job control if the console allows it
    const char* argv[] = {kShell, nullptr};
    const char* envp[] = {"PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/", "TERM=linux", nullptr};
    ::execve(kShell, const_cast<char**>(argv), const_cast<char**>(envp));
    ::_exit(127);
  }
  if (pid < 0) {
    error("cannot start the rescue shell: fork failed");
    return;
  }
  // PID 1 reaps every orphan, not just the shell.
  for (;;) {
    int status = 0;
    pid_t done = ::wait(&status);
    if (done == pid || (done < 0 && errno == ECHILD)) return;
  }
}

}  // namespace

[[noreturn]] void rescue(const std::string& reason) {
  error("nothing to boot: " + reason);
  const bool have_shell = ::access(kShell, X_OK) == 0;
  if (!have_shell)
    error("no rescue shell in this initramfs (build it with --busybox); waiting forever");
  for (;;) {
    if (have_shell) {
      info("starting a rescue shell on the console (a host partition that was found is at /run/imgroot/hostpart)");
      run_shell();
    }
    // Reap whatever is left and do not spin.
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    ::sleep(have_shell ? 1 : 3600);
  }
}

}  // namespace imgroot::init
