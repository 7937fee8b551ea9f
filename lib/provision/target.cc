#include "provision/target.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <charconv>

#include "system/fd.h"
#include "system/file.h"
#include "system/sysfs.h"

namespace imgroot::provision {

namespace {

Status describe_block_device(Target& t, const Fd& fd, const struct stat& st,
                             const SystemPaths& paths) {
  t.kind = Target::Kind::kBlockDevice;
  t.rdev = st.st_rdev;
  const std::string sys_dev = paths.sys_dev_block + "/" + devno_text(st.st_rdev);
  auto partition = exists_at(AT_FDCWD, sys_dev + "/partition");
  if (!partition) return std::unexpected(partition.error());
  if (*partition)
    return fail(quoted(t.path) +
                " is a partition; provision takes the whole disk (it makes the partitions)");
  char link[4096];
  ssize_t n = ::readlink(sys_dev.c_str(), link, sizeof link - 1);
  if (n < 0) return fail_errno("find " + quoted(t.path) + " in sysfs (" + sys_dev + ")");
  std::string target(link, static_cast<std::size_t>(n));
  t.sys_name = target.substr(target.rfind('/') + 1);
  const std::string sys = paths.sys_block + "/" + t.sys_name;

  std::uint64_t bytes = 0;
  if (::ioctl(fd.get(), BLKGETSIZE64, &bytes) < 0) return fail_errno("measure " + quoted(t.path));
  t.size = bytes;
  if (sysfs_attribute(sys + "/ro") == "1") return fail(quoted(t.path) + " is read-only");
  // A loop device attached without LO_FLAGS_PARTSCAN has no partitions.
  t.partitionable = sysfs_attribute(sys + "/partscan") != "0";
  const std::string vendor = sysfs_attribute(sys + "/device/vendor");
  const std::string model = sysfs_attribute(sys + "/device/model");
  t.model = vendor.empty() || model.empty() ? vendor + model : vendor + " " + model;
  return {};
}

}  // namespace

Status check_partitionable(const Target& t) {
  if (t.partitionable) return {};
  return fail(quoted(t.path) + " cannot carry partitions" +
              (t.sys_name.starts_with("loop")
                   ? " (a loop device attached without partition scanning): detach it and "
                     "give provision the image file, or attach it with 'losetup -P'"
                   : ""));
}

std::string devno_text(dev_t devno) {
  return std::to_string(major(devno)) + ":" + std::to_string(minor(devno));
}

std::optional<dev_t> parse_devno(const std::string& text) {
  unsigned ma = 0, mi = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, ma);
  if (ec != std::errc() || p == end || *p != ':') return std::nullopt;
  auto [q, ec2] = std::from_chars(p + 1, end, mi);
  if (ec2 != std::errc() || q == p + 1) return std::nullopt;
  return makedev(ma, mi);
}

Result<Target> open_target(const std::string& path, const SystemPaths& paths) {
  Target t;
  t.path = path;
  auto fd = Fd::open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (!fd) return std::unexpected(fd.error());
  struct stat st {};
  if (::fstat(fd->get(), &st) < 0) return fail_errno("stat " + quoted(path));
  if (S_ISBLK(st.st_mode)) {
    if (auto s = describe_block_device(t, *fd, st, paths); !s) return std::unexpected(s.error());
  } else if (S_ISREG(st.st_mode)) {
    t.kind = Target::Kind::kFile;
    t.size = static_cast<std::uint64_t>(st.st_size);
    t.dev = st.st_dev;
    t.ino = st.st_ino;
  } else {
    return fail(quoted(path) + " is neither a disk (block device) nor a disk image file");
  }
  auto contents = probe_disk_contents(fd->get());
  if (!contents) return std::unexpected(std::move(contents.error()).context(quoted(path)));
  t.contents = std::move(*contents);
  return t;
}

}  // namespace imgroot::provision
