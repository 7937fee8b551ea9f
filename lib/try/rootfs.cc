#include "try/rootfs.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>

#include "image/mount.h"
#include "system/file.h"
#include "system/mount.h"
#include "try/mount_point.h"

namespace imgroot::try_ {

namespace {

const std::string kScratchDir = kScratch;
const std::string kLower = kScratchDir + "/lower";
const std::string kUpper = kScratchDir + "/upper";
const std::string kWork = kScratchDir + "/work";
const std::string kRoot = kScratchDir + "/root";

constexpr unsigned long kSafe = MS_NOSUID | MS_NODEV;

Status make_dir(int dir, const std::string& name, mode_t mode) {
  if (auto made = make_dir_at(dir, name, mode); !made) return made;
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
    return fail_errno("stat " + quoted(name));
  if (!S_ISDIR(st.st_mode)) return fail("the image's /" + name + " is not a directory");
  return {};
}

Status make_dir(const std::string& path, mode_t mode) { return make_dir(AT_FDCWD, path, mode); }

// A detached copy of each bind source, taken before the host's tree is
// covered: open_tree(OPEN_TREE_CLONE) keeps the source as it was.
struct Source {
  Fd tree;
  bool is_dir;
};

Result<std::vector<Source>> capture_binds(const std::vector<Bind>& binds) {
  std::vector<Source> out;
  for (const auto& b : binds) {
    struct stat st {};
    if (::stat(b.source.c_str(), &st) < 0) return fail_errno("bind " + quoted(b.source));
    int fd = ::open_tree(AT_FDCWD, b.source.c_str(),
                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    if (fd < 0) return fail_errno("bind " + quoted(b.source));
    out.push_back({Fd(fd), S_ISDIR(st.st_mode)});
  }
  return out;
}

// The image read-only under a tmpfs, merged by an overlay at kRoot that is
// nodev, and nosuid unless 'keep_setuid'.
Status mount_overlay(const Fd& image, const std::string& fs_type, bool keep_setuid) {
  if (auto st = mount_fs("tmpfs", kScratchDir, "tmpfs", kSafe, "mode=0700"); !st) return st;
  for (const auto& dir : {kLower, kUpper, kWork, kRoot})
    if (auto st = make_dir(dir, 0755); !st) return st;
  if (auto st = image::mount_read_only_at(image, fs_type, kLower, kSafe); !st)
    return std::unexpected(image::explain_mount_error(std::move(st.error()), "mounting an image"));
  // The overlay's root takes the upper layer's owner and mode: the image's.
  struct stat st {};
  if (::stat(kLower.c_str(), &st) < 0) return fail_errno("stat the image's root");
  if (::chown(kUpper.c_str(), st.st_uid, st.st_gid) < 0 ||
      ::chmod(kUpper.c_str(), st.st_mode & 07777) < 0)
    return fail_errno("set up " + quoted(kUpper));
  const unsigned long flags = keep_setuid ? static_cast<unsigned long>(MS_NODEV) : kSafe;
  return mount_fs("overlay", kRoot, "overlay", flags,
                  "lowerdir=" + kLower + ",upperdir=" + kUpper + ",workdir=" + kWork);
}

Status make_node(int dev, const char* name, unsigned major, unsigned minor) {
  if (::mknodat(dev, name, S_IFCHR | 0666, ::makedev(major, minor)) < 0)
    return fail_errno(std::string("create /dev/") + name);
  if (::fchmodat(dev, name, 0666, 0) < 0) return fail_errno(std::string("chmod /dev/") + name);
  return {};
}

// A tmpfs /dev with the devices every program expects, its own devpts
// instance, /dev/shm, the /proc/self/fd links, and the caller's terminal
// as /dev/console.
Status populate_dev(const std::string& dev_path, const std::string& console) {
  if (auto st = mount_fs("tmpfs", dev_path, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755");
      !st)
    return st;
  auto dev = Fd::open(dev_path, O_PATH | O_DIRECTORY);
  if (!dev) return std::unexpected(dev.error());
  const struct {
    const char* name;
    unsigned major, minor;
  } nodes[] = {{"null", 1, 3},    {"zero", 1, 5}, {"full", 1, 7},
               {"random", 1, 8},  {"urandom", 1, 9}, {"tty", 5, 0}};
  for (const auto& n : nodes)
    if (auto st = make_node(dev->get(), n.name, n.major, n.minor); !st) return st;
  const struct {
    const char* name;
    const char* target;
  } links[] = {{"fd", "/proc/self/fd"},         {"stdin", "/proc/self/fd/0"},
               {"stdout", "/proc/self/fd/1"},   {"stderr", "/proc/self/fd/2"},
               {"ptmx", "pts/ptmx"}};
  for (const auto& l : links)
    if (::symlinkat(l.target, dev->get(), l.name) < 0)
      return fail_errno(std::string("create /dev/") + l.name);
  if (auto st = make_dir(dev->get(), "pts", 0755); !st) return st;
  if (auto st = mount_fs("devpts", dev_path + "/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                         "newinstance,ptmxmode=0666,mode=0620");
      !st)
    return st;
  if (auto st = make_dir(dev->get(), "shm", 01777); !st) return st;
  if (auto st = mount_fs("tmpfs", dev_path + "/shm", "tmpfs", kSafe, "mode=1777"); !st) return st;
  if (console.empty()) return {};
  int fd = ::openat(dev->get(), "console", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return fail_errno("create /dev/console");
  (void)::close(fd);  // an empty file to bind the terminal on
  return mount_fs(console, dev_path + "/console", "", MS_BIND);
}

Status mount_api_filesystems(int root, const std::string& console) {
  for (const char* dir : {"proc", "sys", "dev", "tmp", "run"})
    if (auto st = make_dir(root, dir, 0755); !st) return st;
  if (auto st = mount_fs("proc", kRoot + "/proc", "proc", kSafe | MS_NOEXEC); !st) return st;
  if (auto st = mount_fs("sysfs", kRoot + "/sys", "sysfs", MS_RDONLY | kSafe | MS_NOEXEC); !st)
    return st;
  if (auto st = populate_dev(kRoot + "/dev", console); !st) return st;
  if (auto st = mount_fs("tmpfs", kRoot + "/tmp", "tmpfs", kSafe, "mode=1777"); !st) return st;
  return mount_fs("tmpfs", kRoot + "/run", "tmpfs", kSafe, "mode=0755");
}

Status attach_binds(int root, const std::vector<Bind>& binds, std::vector<Source>& sources) {
  for (std::size_t i = 0; i < binds.size(); ++i) {
    const std::string what = "bind " + quoted(binds[i].source) + " on " + quoted(binds[i].target);
    auto target = mount_point(root, binds[i].target, sources[i].is_dir);
    if (!target) return std::unexpected(std::move(target.error()).context(what));
    if (::move_mount(sources[i].tree.get(), "", target->get(), "",
                     MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      return fail_errno(what);
  }
  return {};
}

// pivot_root(".", ".") stacks the old root on the new one; detaching it
// leaves the host's tree out of the namespace.
Status pivot_into(const std::string& root) {
  if (::chdir(root.c_str()) < 0) return fail_errno("enter " + quoted(root));
  if (::syscall(SYS_pivot_root, ".", ".") < 0) return fail_errno("pivot_root into the image");
  if (::umount2(".", MNT_DETACH) < 0) return fail_errno("detach the host's root");
  if (::chdir("/") < 0) return fail_errno("enter /");
  return {};
}

}  // namespace

Status bring_up_loopback() {
  Fd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return fail_errno("socket");
  struct ifreq ifr {};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) < 0) return fail_errno("read the flags of lo");
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) < 0) return fail_errno("bring up lo");
  return {};
}

Status enter_root(const Request& request, const Fd& image, const std::string& fs_type) {
  if (auto st = make_private_recursive("/"); !st) return st;
  auto sources = capture_binds(request.binds);
  if (!sources) return std::unexpected(sources.error());
  // A booted image's init runs the system as on a real boot, where users
  // become root through setuid programs (su, sudo, passwd): they keep that.
  // A command starts as root and needs none.
  if (auto st = mount_overlay(image, fs_type, /*keep_setuid=*/request.boot); !st) return st;
  auto root = Fd::open(kRoot, O_PATH | O_DIRECTORY);
  if (!root) return std::unexpected(root.error());
  if (auto st = mount_api_filesystems(root->get(), request.console); !st) return st;
  if (auto st = attach_binds(root->get(), request.binds, *sources); !st) return st;
  return pivot_into(kRoot);
}

}  // namespace imgroot::try_
