#include "system/detached_mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace imgroot {

namespace {

// The fs context's log holds lines "e ext4: ...", "w ...", "i ...": keep the
// errors and warnings, they say why the kernel refused better than errno.
std::string drain_log(int fs) {
  std::string said;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fs, buf, sizeof buf);
    if (n <= 0) break;  // ENODATA once the log is empty
    std::string line(buf, static_cast<size_t>(n));
    if (line.size() > 2 && (line[0] == 'e' || line[0] == 'w')) {
      if (!said.empty()) said += "; ";
      said += line.substr(2);
    }
  }
  return said;
}

std::unexpected<Error> fail_fs(const std::string& what, int fs) {
  int code = errno;
  Error e = Error::from_errno(what, code);
  if (std::string said = drain_log(fs); !said.empty()) e.message += " (kernel: " + said + ")";
  return std::unexpected(std::move(e));
}

}  // namespace

Result<Fd> mount_detached_read_only(const std::string& source, const std::string& type,
                                   const DetachedMountOptions& options) {
  return mount_detached(source, type, options, /*read_only=*/true);
}

Result<Fd> mount_detached(const std::string& source, const std::string& type,
                          const DetachedMountOptions& options, bool read_only) {
  const std::string what = "mount " + quoted(source) + " as " + type;
  int raw = ::fsopen(type.c_str(), FSOPEN_CLOEXEC);
  if (raw < 0) return fail_errno(what);
  Fd fs(raw);
  if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "source", source.c_str(), 0) < 0)
    return fail_fs(what, fs.get());
  if (read_only && ::fsconfig(fs.get(), FSCONFIG_SET_FLAG, "ro", nullptr, 0) < 0)
    return fail_fs(what, fs.get());
  for (const auto& flag : options.flags) {
    if (::fsconfig(fs.get(), FSCONFIG_SET_FLAG, flag.c_str(), nullptr, 0) < 0)
      return fail_fs(what + " with " + flag, fs.get());
  }
  for (const auto& [key, value] : options.strings) {
    if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, key.c_str(), value.c_str(), 0) < 0)
      return fail_fs(what + " with " + key + "=" + value, fs.get());
  }
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
    return fail_fs(what, fs.get());
  int mnt = ::fsmount(fs.get(), FSMOUNT_CLOEXEC,
                      (read_only ? MOUNT_ATTR_RDONLY : 0) | MOUNT_ATTR_NOSUID |
                          MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  if (mnt < 0) return fail_fs(what, fs.get());
  return Fd(mnt);
}

}  // namespace imgroot
