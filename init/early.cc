#include "early.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "boot/cmdline.h"
#include "system/fd.h"
#include "system/file.h"
#include "system/mount.h"

namespace imgroot::init {

Status mount_api_filesystems() {
  const struct {
    const char* type;
    const char* target;
    unsigned long flags;
    const char* data;
  } api[] = {
      {"devtmpfs", "/dev", MS_NOSUID, "mode=0755"},
      {"proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""},
      {"sysfs", "/sys", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""},
      {"tmpfs", "/run", MS_NOSUID | MS_NODEV, "mode=0755"},
  };
  for (const auto& fs : api) {
    (void)::mkdir(fs.target, 0755);  // usually shipped in the initramfs; EEXIST is fine
    if (auto st = mount_fs(fs.type, fs.target, fs.type, fs.flags, fs.data); !st) return st;
  }
  return {};
}

std::vector<std::string> module_paths(std::string_view list) { return split_cmdline(list); }

ModulesLoaded load_modules(const std::string& list_path, void (*on_failure)(const Error&)) {
  ModulesLoaded result;
  auto list = read_file(list_path);
  if (!list) return result;
  for (const auto& path : module_paths(*list)) {
    auto fd = Fd::open(path, O_RDONLY);
    if (!fd) {
      ++result.failed;
      on_failure(fd.error());
      continue;
    }
    if (::syscall(SYS_finit_module, fd->get(), "", 0) == 0 || errno == EEXIST) {
      ++result.loaded;
    } else {
      // Some modules cannot load on every CPU (crc32c-intel without
      // SSE4.2); their generic twins in the list cover for them.
      ++result.failed;
      on_failure(Error::from_errno("load module " + quoted(path)));
    }
  }
  return result;
}

}  // namespace imgroot::init
