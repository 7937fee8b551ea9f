#include "provision/in_use.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <map>
#include <set>
#include <sstream>

#include "state/mount_table.h"
#include "system/fd.h"
#include "system/file.h"
#include "system/sysfs.h"

namespace imgroot::provision {

namespace {

// Loop devices over files on loop devices...: deep enough for any real stack.
constexpr int kMaxLoopDepth = 8;

// The disk and its partitions: device number -> name in /sys/block.
Result<std::map<dev_t, std::string>> members_of(const Target& target, const SystemPaths& paths) {
  std::map<dev_t, std::string> members{{target.rdev, target.sys_name}};
  const std::string sys = paths.sys_block + "/" + target.sys_name;
  auto dir = Fd::open_dir(sys);
  if (!dir) return std::unexpected(dir.error());
  auto names = list_dir(dir->get());
  if (!names) return std::unexpected(names.error());
  for (const auto& name : *names) {
    if (sysfs_attribute(sys + "/" + name + "/partition").empty()) continue;
    if (auto devno = parse_devno(sysfs_attribute(sys + "/" + name + "/dev"))) members[*devno] = name;
  }
  return members;
}

// A path's device (a block device's own number, else the device the file
// is on), and through loop devices, the devices their backing files are
// on; each with the backing file that leads on from it, if any.
void underlying(dev_t devno, const SystemPaths& paths, std::vector<std::pair<dev_t, std::string>>& out,
                int depth = 0) {
  out.emplace_back(devno, "");
  if (depth >= kMaxLoopDepth) return;
  std::string backing =
      sysfs_attribute(paths.sys_dev_block + "/" + devno_text(devno) + "/loop/backing_file");
  if (backing.ends_with(" (deleted)")) backing.resize(backing.size() - 10);
  struct stat st {};
  if (backing.empty() || ::stat(backing.c_str(), &st) < 0) return;
  out.back().second = backing;
  underlying(S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev, paths, out, depth + 1);
}

// What 'path' (a mount source or swap entry) lives on.
std::vector<std::pair<dev_t, std::string>> devices_of(dev_t devno, const std::string& path,
                                                       const SystemPaths& paths) {
  std::vector<std::pair<dev_t, std::string>> out;
  if (devno != 0) underlying(devno, paths, out);
  struct stat st {};
  if (path.starts_with("/") && ::stat(path.c_str(), &st) == 0)
    underlying(S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev, paths, out);
  return out;
}

// "sdb2", or "the loop device backed by '/hostpart/hn-root.img', which is on sdb2".
std::string describe_hit(const std::string& member,
                         const std::vector<std::pair<dev_t, std::string>>& chain, std::size_t hit) {
  for (std::size_t i = 0; i < hit; ++i)
    if (!chain[i].second.empty())
      return "the loop device backed by " + quoted(chain[i].second) + ", which is on " + member;
  return member;
}

// The member of the disk that 'chain' reaches, and where in the chain.
std::optional<std::pair<std::string, std::size_t>> find_member(
    const std::map<dev_t, std::string>& members,
    const std::vector<std::pair<dev_t, std::string>>& chain) {
  for (std::size_t i = 0; i < chain.size(); ++i)
    if (auto it = members.find(chain[i].first); it != members.end())
      return std::make_pair(it->second, i);
  return std::nullopt;
}

Status check_mounts(const Target& target, const std::map<dev_t, std::string>& members,
                    const SystemPaths& paths) {
  auto table = state::MountTable::read(paths.mountinfo);
  if (!table) return std::unexpected(table.error());
  auto entries = table->entries();
  if (!entries) return std::unexpected(entries.error());
  // The running root first: it is the worst mistake and the clearest message.
  std::optional<std::string> mounted;
  for (const auto& fs : *entries) {
    auto chain = devices_of(fs.devno, fs.source, paths);
    auto hit = find_member(members, chain);
    if (!hit) continue;
    std::string where = describe_hit(hit->first, chain, hit->second);
    if (fs.target == "/")
      return fail(quoted(target.path) + " holds the running root: / is on " + where +
                  "; provision another disk");
    if (!mounted)
      mounted = quoted(target.path) + " is in use: " + where + " is mounted at " +
                quoted(fs.target) + "; unmount it first";
  }
  if (mounted) return fail(*mounted);
  return {};
}

Status check_swaps(const Target& target, const std::map<dev_t, std::string>& members,
                   const SystemPaths& paths) {
  auto text = read_file(paths.swaps);
  if (!text) return text.error().code == ENOENT ? Status{} : std::unexpected(text.error());
  std::istringstream lines(*text);
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) {
    std::string path = line.substr(0, line.find_first_of(" \t"));
    if (path.empty()) continue;
    auto chain = devices_of(0, path, paths);
    if (auto hit = find_member(members, chain))
      return fail(quoted(target.path) + " is in use: " + describe_hit(hit->first, chain, hit->second) +
                  " holds swap space " + quoted(path) + "; swapoff it first");
  }
  return {};
}

Status check_holders(const Target& target, const std::map<dev_t, std::string>& members,
                     const SystemPaths& paths) {
  for (const auto& [devno, name] : members) {
    std::string dir_path = paths.sys_block + "/" + target.sys_name +
                           (name == target.sys_name ? "" : "/" + name) + "/holders";
    auto dir = Fd::open_dir(dir_path);
    if (!dir) continue;  // no holders directory: nothing holds it
    auto holders = list_dir(dir->get());
    if (!holders) return std::unexpected(holders.error());
    if (!holders->empty())
      return fail(quoted(target.path) + " is in use: " + name + " is held by " + holders->front() +
                  " (device mapper, LVM or RAID); stop that first");
  }
  return {};
}

Status check_file_not_attached(const Target& target, const SystemPaths& paths) {
  auto dir = Fd::open_dir(paths.sys_block);
  if (!dir) return std::unexpected(dir.error());
  auto names = list_dir(dir->get());
  if (!names) return std::unexpected(names.error());
  for (const auto& name : *names) {
    std::string backing = sysfs_attribute(paths.sys_block + "/" + name + "/loop/backing_file");
    struct stat st {};
    if (backing.empty() || ::stat(backing.c_str(), &st) < 0) continue;
    if (target.is_file_of(st))
      return fail(quoted(target.path) + " is attached to /dev/" + name +
                  " (its partitions may be mounted through it); detach it first (losetup -d /dev/" +
                  name + ")");
  }
  return {};
}

}  // namespace

Status check_not_in_use(const Target& target, const SystemPaths& paths) {
  if (target.is_file()) return check_file_not_attached(target, paths);
  auto members = members_of(target, paths);
  if (!members) return std::unexpected(members.error());
  if (auto s = check_mounts(target, *members, paths); !s) return s;
  if (auto s = check_swaps(target, *members, paths); !s) return s;
  return check_holders(target, *members, paths);
}

Status check_exclusive(const Target& target) {
  if (target.is_file()) return {};
  auto fd = Fd::open(target.path, O_RDONLY | O_EXCL | O_NONBLOCK);
  if (fd) return {};
  if (fd.error().code == EBUSY)
    return fail(quoted(target.path) +
                " is in use: the kernel refuses to open it exclusively (a partition is mounted, "
                "swapped on, or held by another driver)");
  return std::unexpected(fd.error());
}

}  // namespace imgroot::provision
