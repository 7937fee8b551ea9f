#include "early.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include "boot/cmdline.h"
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

}  // namespace imgroot::init
