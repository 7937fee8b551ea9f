#include "system/temp_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

#include "system/fd.h"
#include "system/file.h"

namespace imgroot {

Result<TempDir> TempDir::create(const std::string& base, const std::string& prefix) {
  std::string tmpl = base + "/" + prefix + ".XXXXXX";
  if (!::mkdtemp(tmpl.data())) return fail_errno("make a temporary directory in " + quoted(base));
  return TempDir(std::move(tmpl));
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  if (auto dir = Fd::open_dir(path_)) (void)remove_contents(dir->get());  // best effort
  (void)::rmdir(path_.c_str());  // best effort: a leftover temporary directory is harmless
}

}  // namespace imgroot
