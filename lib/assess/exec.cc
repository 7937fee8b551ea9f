#include "assess/exec.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

extern char** environ;

namespace imgroot::assess {

namespace {

// journald's stream socket (systemd's contract): systemd-cat needs it.
constexpr const char* kJournalStream = "/run/systemd/journal/stdout";
constexpr int kKillGrace = 10;  // seconds between SIGTERM and SIGKILL

class SpawnSetup {
 public:
  SpawnSetup() {
    ::posix_spawn_file_actions_init(&actions_);
    ::posix_spawnattr_init(&attr_);
  }
  ~SpawnSetup() {
    ::posix_spawn_file_actions_destroy(&actions_);
    ::posix_spawnattr_destroy(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
};

// Wait for 'pid' until 'deadline'; its wait status, or nullopt at the deadline.
std::optional<int> wait_until(pid_t pid, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    int status = 0;
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return 0;  // not our child any more: nothing to wait for
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

std::string journal_tag(const std::string& name) { return "imgroot-check/" + name; }

Result<Try> run_script(const std::string& path, const std::string& tag, int timeout) {
  const std::string what = "run " + quoted(path);
  SpawnSetup setup;
  if (int rc = ::posix_spawn_file_actions_addopen(&setup.actions_, 0, "/dev/null", O_RDONLY, 0);
      rc != 0)
    return fail_errno(what, rc);
  // Its own process group (pgid = its pid): the timeout kills the lot.
  ::posix_spawnattr_setflags(&setup.attr_, POSIX_SPAWN_SETPGROUP);
  ::posix_spawnattr_setpgroup(&setup.attr_, 0);

  std::vector<std::string> args;
  if (::access(kJournalStream, W_OK) == 0) args = {"systemd-cat", "-t", tag, "--"};
  args.push_back(path);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, argv[0], &setup.actions_, &setup.attr_, argv.data(), environ);
  if (rc == ENOENT && args.size() > 1) {  // no systemd-cat: the check's output stays ours
    char* alone[] = {args.back().data(), nullptr};
    rc = ::posix_spawn(&pid, path.c_str(), &setup.actions_, &setup.attr_, alone, environ);
  }
  if (rc != 0) return fail_errno(what, rc);

  auto start = std::chrono::steady_clock::now();
  auto status = wait_until(pid, start + std::chrono::seconds(timeout));
  if (!status) {
    ::kill(-pid, SIGTERM);
    status = wait_until(pid, std::chrono::steady_clock::now() + std::chrono::seconds(kKillGrace));
    if (!status) {
      ::kill(-pid, SIGKILL);
      status = wait_until(pid, std::chrono::steady_clock::time_point::max());
    }
    return Try{false, "timed out after " + std::to_string(timeout) + "s"};
  }
  if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) return Try{true, ""};
  if (WIFSIGNALED(*status))
    return Try{false, "killed by signal " + std::to_string(WTERMSIG(*status))};
  return Try{false, "exit " + std::to_string(WEXITSTATUS(*status))};
}

}  // namespace imgroot::assess
