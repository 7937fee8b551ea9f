#include "system/run.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "system/fd.h"

extern char** environ;

namespace imgroot {

namespace {

// Root's PATH usually has them, sudo's and cron's may not.
constexpr std::array kSbinDirs{"/usr/sbin", "/sbin"};
// How much of a failing program's output goes into the message.
constexpr std::size_t kOutputTail = 600;

std::vector<std::string> environment_with(const RunOptions& options) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry = *e;
    bool replaced = false;
    for (const auto& [name, value] : options.env)
      replaced = replaced || entry.starts_with(name + "=");
    if (!replaced) env.push_back(std::move(entry));
  }
  for (const auto& [name, value] : options.env) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

std::string tail(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.size() > kOutputTail) text = "..." + text.substr(text.size() - kOutputTail);
  for (char& c : text)
    if (c == '\n') c = ' ';
  return text;
}

// posix_spawn's file actions, freed however the spawn goes.
class FileActions {
 public:
  FileActions() { ::posix_spawn_file_actions_init(&actions_); }
  ~FileActions() { ::posix_spawn_file_actions_destroy(&actions_); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

}  // namespace

Result<std::string> run_program(const std::vector<std::string>& argv, const RunOptions& options) {
  if (argv.empty()) return fail("run: no program");
  const std::string what = "run " + argv[0];
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) < 0) return fail_errno(what + ": pipe");
  Fd reader(ends[0]), writer(ends[1]);

  FileActions actions;
  // dup2 clears close-on-exec on the copies; the originals close at exec.
  if (int rc = ::posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
      rc != 0)
    return fail_errno(what, rc);
  if (int rc = ::posix_spawn_file_actions_adddup2(actions.get(), writer.get(), 1); rc != 0)
    return fail_errno(what, rc);
  if (int rc = ::posix_spawn_file_actions_adddup2(actions.get(), writer.get(), 2); rc != 0)
    return fail_errno(what, rc);

  std::vector<std::string> args = argv;
  std::vector<std::string> env = environment_with(options);
  auto arg_ptrs = pointers(args);
  auto env_ptrs = pointers(env);
  pid_t pid = 0;
  // posix_spawnp searches PATH; a program not found there may be in sbin.
  int rc = ::posix_spawnp(&pid, argv[0].c_str(), actions.get(), nullptr, arg_ptrs.data(),
                          env_ptrs.data());
  if (rc == ENOENT && argv[0].find('/') == std::string::npos) {
    for (const char* dir : kSbinDirs) {
      std::string path = std::string(dir) + "/" + argv[0];
      rc = ::posix_spawn(&pid, path.c_str(), actions.get(), nullptr, arg_ptrs.data(),
                         env_ptrs.data());
      if (rc != ENOENT) break;
    }
  }
  if (rc != 0) return fail_errno(what, rc);
  writer = Fd();

  std::string output;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(reader.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of output (a read error ends it too; the status decides)
    output.append(buf, static_cast<std::size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return fail_errno(what + ": wait");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return output;
  std::string how = WIFSIGNALED(status)
                        ? "killed by signal " + std::to_string(WTERMSIG(status))
                        : "exit status " + std::to_string(WEXITSTATUS(status));
  std::string said = tail(output);
  return fail(what + ": " + how + (said.empty() ? "" : ": " + said));
}

}  // namespace imgroot
