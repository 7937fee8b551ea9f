#include "assess/checks.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "system/fd.h"
#include "system/file.h"

namespace imgroot::assess {

namespace {

bool is_leftover(const std::string& name) {
  if (name.starts_with('.') || name.ends_with('~')) return true;
  if (name.find(".dpkg-") != std::string::npos) return true;
  for (const char* suffix : {".rpmsave", ".rpmnew", ".bak"})
    if (name.ends_with(suffix)) return true;
  return false;
}

// The executable regular files directly in 'dir' (symlinks to one count).
Result<std::vector<std::string>> executables(const std::string& dir) {
  auto opened = Fd::open_dir(dir);
  if (!opened) {
    if (opened.error().code == ENOENT) return std::vector<std::string>();
    return std::unexpected(opened.error());
  }
  auto names = list_dir(opened->get());
  if (!names) return std::unexpected(std::move(names.error()).context(quoted(dir)));
  std::vector<std::string> out;
  for (auto& name : *names) {
    if (is_leftover(name)) continue;
    struct stat st {};
    if (::fstatat(opened->get(), name.c_str(), &st, 0) < 0) continue;  // a dangling symlink
    if (!S_ISREG(st.st_mode)) continue;
    if (::faccessat(opened->get(), name.c_str(), X_OK, 0) < 0) continue;
    out.push_back(std::move(name));
  }
  return out;
}

Status add_checks(const std::string& dir, const std::string& prefix, Kind kind,
                  std::vector<Check>& out) {
  auto names = executables(dir);
  if (!names) return std::unexpected(names.error());
  for (const auto& name : *names) out.push_back({prefix + name, dir + "/" + name, kind});
  return {};
}

}  // namespace

Result<std::vector<Check>> find_checks(const std::string& check_dir) {
  std::vector<Check> checks;
  for (auto [sub, kind] : {std::pair{"", Kind::kRequired}, std::pair{"required/", Kind::kRequired},
                           std::pair{"wanted/", Kind::kWanted}}) {
    std::string dir = check_dir;
    if (*sub) dir += "/" + std::string(sub, std::string(sub).size() - 1);
    if (auto st = add_checks(dir, sub, kind, checks); !st) return std::unexpected(st.error());
  }
  return checks;
}

Result<std::vector<std::string>> find_scripts(const std::string& dir) {
  auto names = executables(dir);
  if (!names) return std::unexpected(names.error());
  for (auto& name : *names) name = dir + "/" + name;
  return names;
}

CheckResult run_with_retries(const Check& check, const Config& config, const Retry& retry) {
  CheckResult result{check.name, check.kind, false, 0, ""};
  const int tries = check.kind == Kind::kRequired ? 1 + config.retries : 1;
  for (int i = 0; i < tries; ++i) {
    if (i > 0 && config.interval > 0) retry.sleep(config.interval);
    Try t = retry.run(check);
    result.attempts = i + 1;
    result.passed = t.passed;
    result.failure = t.failure;
    if (t.passed) break;
  }
  return result;
}

}  // namespace imgroot::assess
