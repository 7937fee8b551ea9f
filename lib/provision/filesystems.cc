#include "provision/filesystems.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "base/layout.h"
#include "system/fd.h"
#include "system/file.h"
#include "system/run.h"

namespace imgroot::provision {

namespace {

const char* package_of(const std::string& program) {
  if (program == "mkfs.vfat") return "dosfstools";
  if (program == "mkfs.ext4") return "e2fsprogs";
  if (program == "mkfs.btrfs") return "btrfs-progs";
  if (program == "mkfs.xfs") return "xfsprogs";
  return nullptr;
}

Status run_mkfs(const std::vector<std::string>& argv, const std::string& device) {
  auto ran = run_program(argv);
  if (ran) return {};
  Error e = std::move(ran.error()).context("make a filesystem on " + quoted(device));
  if (e.code == ENOENT)
    if (const char* package = package_of(argv[0])) e.message += " (install " + std::string(package) + ")";
  return std::unexpected(std::move(e));
}

}  // namespace

Status wipe_start(const std::string& device, std::uint64_t size) {
  auto fd = Fd::open(device, O_WRONLY);
  if (!fd) return std::unexpected(fd.error());
  const std::vector<char> zeros(std::min(size, kMiB), 0);
  std::size_t done = 0;
  while (done < zeros.size()) {
    ssize_t n = ::pwrite(fd->get(), zeros.data() + done, zeros.size() - done, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("wipe the start of " + quoted(device));
    }
    done += static_cast<std::size_t>(n);
  }
  return fsync_fd(fd->get(), quoted(device));
}

Status make_esp_filesystem(const std::string& device, std::uint64_t size) {
  std::vector<std::string> argv{"mkfs.vfat"};
  if (size >= kMinFat32Size) argv.insert(argv.end(), {"-F", "32"});
  argv.insert(argv.end(), {"-n", labels::kEsp, device});
  return run_mkfs(argv, device);
}

Status make_host_filesystem(const std::string& device, HostFs fs) {
  switch (fs) {
    case HostFs::kExt4:
      // 4 KiB blocks whatever the size (small filesystems get 1 KiB ones).
      return run_mkfs({"mkfs.ext4", "-q", "-F", "-b", "4096", "-L", labels::kHostpart, device}, device);
    case HostFs::kBtrfs:
      return run_mkfs({"mkfs.btrfs", "-q", "-f", "-L", labels::kHostpart, device}, device);
    case HostFs::kXfs:
      return run_mkfs({"mkfs.xfs", "-q", "-f", "-L", labels::kHostpart, device}, device);
  }
  return fail("make a filesystem: unknown type");
}

}  // namespace imgroot::provision
