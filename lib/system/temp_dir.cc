#include "system/temp_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

#include "system/fd.h"
#include "system/file.h"

namespace imgroot {

namespace {

// Remove what is in 'dir', depth first, without following symlinks. Best
// effort: the directory is private and temporary.
void remove_contents(int dir, int depth) {
  auto names = list_dir(dir);
  if (!names) return;
  for (const auto& name : *names) {
    if (::unlinkat(dir, name.c_str(), 0) == 0) continue;
    if (errno != EISDIR && errno != EPERM) continue;
    if (depth < 32) {
      auto sub = Fd::open_at(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      if (sub) remove_contents(sub->get(), depth + 1);
    }
    (void)::unlinkat(dir, name.c_str(), AT_REMOVEDIR);  // best effort, see above
  }
}

}  // namespace

Result<TempDir> TempDir::create(const std::string& base, const std::string& prefix) {
  std::string tmpl = base + "/" + prefix + ".XXXXXX";
  if (!::mkdtemp(tmpl.data())) return fail_errno("make a temporary directory in " + quoted(base));
  return TempDir(std::move(tmpl));
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  if (auto dir = Fd::open_dir(path_)) remove_contents(dir->get(), 0);
  (void)::rmdir(path_.c_str());  // best effort: a leftover temporary directory is harmless
}

}  // namespace imgroot
