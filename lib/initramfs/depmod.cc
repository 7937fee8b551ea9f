#include "initramfs/depmod.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <vector>

#include "system/file.h"

extern char** environ;

namespace imgroot::initramfs {

namespace {

constexpr std::array kDepmodCandidates{"/usr/sbin/depmod", "/sbin/depmod", "/usr/bin/depmod",
                                       "/bin/depmod"};

Result<int> wait_for(pid_t pid, const std::string& what) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return fail_errno("wait for " + what);
  }
  return status;
}

}  // namespace

std::string modules_dir(const std::string& root, const std::string& kernel_release) {
  std::string dir = root;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir == "/") dir.clear();
  return dir + "/lib/modules/" + kernel_release;
}

Result<bool> has_modules_dep(const std::string& root, const std::string& kernel_release) {
  auto dir = Fd::open_dir(modules_dir(root, kernel_release));
  if (!dir) return std::unexpected(std::move(dir.error()));
  return exists_at(dir->get(), "modules.dep");
}

Status run_depmod(const std::string& root, const std::string& kernel_release) {
  const char* program = nullptr;
  for (const char* candidate : kDepmodCandidates) {
    if (::access(candidate, X_OK) == 0) {
      program = candidate;
      break;
    }
  }
  const std::string what = "run depmod -b " + quoted(root) + " " + kernel_release;
  if (!program) return fail(what + ": depmod not found (install kmod)");

  std::vector<std::string> args{"depmod", "-b", root, kernel_release};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  pid_t pid = 0;
  if (int rc = ::posix_spawn(&pid, program, nullptr, nullptr, argv.data(), environ); rc != 0)
    return fail_errno(what, rc);
  auto status = wait_for(pid, "depmod");
  if (!status) return std::unexpected(std::move(status.error()));
  if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) return {};
  if (WIFSIGNALED(*status))
    return fail(what + ": killed by signal " + std::to_string(WTERMSIG(*status)));
  return fail(what + ": exited with status " + std::to_string(WEXITSTATUS(*status)));
}

}  // namespace imgroot::initramfs
