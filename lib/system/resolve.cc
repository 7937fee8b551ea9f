#include "system/resolve.h"

#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace imgroot {

Result<Fd> open_in_root(int root, const std::string& path, int flags, std::uint64_t extra) {
  struct open_how how {};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | extra;
  long fd = ::syscall(SYS_openat2, root, path.c_str(), &how, sizeof how);
  if (fd < 0) return fail_errno("open " + quoted(path));
  return Fd(static_cast<int>(fd));
}

}  // namespace imgroot
