#include "try/init.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace imgroot::try_ {

namespace {

// As try.cc reads it: "ERRNO MESSAGE".
void write_message(int fd, int code, const std::string& message) {
  const std::string m = std::to_string(code) + " " + message;
  (void)!::write(fd, m.data(), m.size());  // best effort: the process exits right after
}

std::string path_of(const std::vector<std::string>& environment) {
  for (const auto& kv : environment)
    if (kv.starts_with("PATH=")) return kv.substr(5);
  return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

// execve 'command', looking a name without '/' up in PATH; returns only on failure.
void exec_command(const std::vector<std::string>& command,
                  const std::vector<std::string>& environment, int report_fd) {
  std::vector<char*> argv, envp;
  for (const auto& a : command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : environment) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const std::string& name = command.front();
  int error = ENOENT;
  if (name.find('/') != std::string::npos) {
    ::execve(name.c_str(), argv.data(), envp.data());
    error = errno;
  } else {
    const std::string path = path_of(environment);
    for (std::size_t at = 0; at <= path.size();) {
      std::size_t end = path.find(':', at);
      if (end == std::string::npos) end = path.size();
      std::string dir = path.substr(at, end - at);
      at = end + 1;
      const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
      ::execve(candidate.c_str(), argv.data(), envp.data());
      if (errno != ENOENT && errno != ENOTDIR) error = errno;  // e.g. EACCES: remember it
    }
  }
  write_message(report_fd, 0, "run " + quoted(name) + " in the image: " + std::strerror(error));
}

sigset_t forwarded_and_chld() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kForwarded) sigaddset(&set, sig);
  sigaddset(&set, SIGCHLD);
  return set;
}

int status_of(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

void on_signal(int) {}

void reset_signals() {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig : kForwarded) (void)::sigaction(sig, &dfl, nullptr);  // cannot fail for these
  sigset_t none;
  sigemptyset(&none);
  (void)::sigprocmask(SIG_SETMASK, &none, nullptr);  // cannot fail
}

}  // namespace

[[noreturn]] void run_init(const Request& request, int report_fd) {
  // PID 1 of a namespace only receives the signals it has a handler for;
  // blocked, they are read from the signalfd instead of running it.
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : kForwarded) (void)::sigaction(sig, &sa, nullptr);  // cannot fail for these
  const sigset_t set = forwarded_and_chld();
  (void)::sigprocmask(SIG_BLOCK, &set, nullptr);  // cannot fail with a valid set
  const int sfd = ::signalfd(-1, &set, SFD_CLOEXEC);
  if (sfd < 0) {
    write_message(report_fd, errno, std::string("signalfd: ") + std::strerror(errno));
    ::_exit(125);
  }

  std::vector<std::string> command = request.command;
  if (command.empty()) command = {"/bin/sh"};
  const pid_t child = ::fork();
  if (child < 0) {
    write_message(report_fd, errno, std::string("fork: ") + std::strerror(errno));
    ::_exit(125);
  }
  if (child == 0) {
    reset_signals();
    exec_command(command, request.environment, report_fd);
    ::_exit(127);
  }
  ::close(report_fd);  // the command's copy closes when it execs

  for (;;) {
    struct signalfd_siginfo info {};
    ssize_t n = ::read(sfd, &info, sizeof info);
    if (n != static_cast<ssize_t>(sizeof info)) continue;  // EINTR: read again
    const int sig = static_cast<int>(info.ssi_signo);
    if (sig != SIGCHLD) {
      (void)::kill(child, sig);  // ESRCH: it is ending anyway
      continue;
    }
    int status = 0;
    for (pid_t pid; (pid = ::waitpid(-1, &status, WNOHANG)) > 0;) {
      if (pid == child) ::_exit(status_of(status));
    }
  }
}

[[noreturn]] void exec_image_init(const Request& request, int report_fd) {
  reset_signals();
  exec_command({request.init}, request.environment, report_fd);
  ::_exit(127);
}

}  // namespace imgroot::try_
