#include "state/status.h"

#include <sys/stat.h>

#include "boot/cmdline.h"
#include "base/layout.h"
#include "boot/host_identity.h"
#include "boot/rotation.h"
#include "state/mount_table.h"
#include "system/file.h"
#include "system/sysfs.h"

namespace imgroot::state {

using namespace host_files;

namespace {

// /sys/block/loopN/loop/backing_file for /dev/loopN; nullopt for anything else.
std::optional<std::string> backing_file_of(const std::string& device, const SystemPaths& paths) {
  const std::string prefix = "/dev/loop";
  if (!device.starts_with(prefix)) return std::nullopt;
  std::string name = device.substr(5);  // loopN
  std::string backing = sysfs_attribute(paths.sys_block + "/" + name + "/loop/backing_file");
  if (backing.empty()) return std::nullopt;
  return backing;
}

// Is 'file' (an absolute path as the kernel prints it) a direct child of the
// host partition directory? Compares the directory by device and inode, so
// any path to it counts.
std::optional<std::string> name_on_hostpart(const std::string& file, const Hostpart& hostpart) {
  auto slash = file.rfind('/');
  if (slash == std::string::npos) return std::nullopt;
  std::string parent = slash == 0 ? "/" : file.substr(0, slash);
  struct stat dir_st {}, hp_st {};
  if (::stat(parent.c_str(), &dir_st) < 0 || ::fstat(hostpart.dir.get(), &hp_st) < 0)
    return std::nullopt;
  if (!same_inode(dir_st, hp_st)) return std::nullopt;
  return file.substr(slash + 1);
}

ImageStatus image_status(int dir, const char* name, const char* role, const StateFile& state) {
  ImageStatus out;
  out.name = name;
  out.role = role;
  auto st = stat_at(dir, name);
  if (!st || !*st) return out;
  out.present = true;
  out.size = static_cast<std::uint64_t>((*st)->st_size);
  out.mtime = static_cast<std::int64_t>((*st)->st_mtim.tv_sec);
  if (const ImageRecord* r = state.find(**st)) {
    out.record = *r;
    out.modified_since_staged = r->staged() && record_for(**st).mtime_ns != r->mtime_ns;
  }
  return out;
}

// The type of the topmost filesystem mounted at /.
std::optional<std::string> root_fstype(const MountTable& table) {
  auto entries = table.entries();
  if (!entries) return std::nullopt;
  std::optional<std::string> type;
  for (const auto& e : *entries)
    if (e.target == "/") type = e.fstype;
  return type;
}

bool same_directory(int dir, const std::string& path) {
  struct stat a {}, b {};
  return ::fstat(dir, &a) == 0 && ::stat(path.c_str(), &b) == 0 && same_inode(a, b);
}

}  // namespace

bool serves_running_system(const Hostpart& hostpart, const SystemPaths& paths,
                           const Booted& booted) {
  // With an overlay, / is no loop device: the partition is known by where
  // the running system has it.
  return booted.from_this_hostpart || same_directory(hostpart.dir.get(), paths.default_hostpart);
}

bool serves_running_system(const Hostpart& hostpart, const SystemPaths& paths) {
  return serves_running_system(hostpart, paths, find_booted(hostpart, paths));
}

Booted find_booted(const Hostpart& hostpart, const SystemPaths& paths) {
  Booted b;
  if (auto text = read_file(paths.cmdline)) {
    auto config = parse_cmdline(*text).config;
    b.kernel_image = config.image;
    b.overlay = config.overlay;
  }
  if (auto table = MountTable::read(paths.mountinfo)) {
    b.root_fstype = root_fstype(*table);
    // Under an overlay the image is its lower layer, where the init left it.
    b.root_device = table->source_at(b.root_fstype == "overlay" ? run_paths::kOverlayLower : "/");
  }
  if (b.root_device) b.backing_file = backing_file_of(*b.root_device, paths);
  if (b.backing_file) {
    b.image = name_on_hostpart(*b.backing_file, hostpart);
    b.from_this_hostpart = b.image.has_value();
  }
  return b;
}

Result<HostStatus> read_status(const Hostpart& hostpart, const SystemPaths& paths) {
  const int dir = hostpart.dir.get();
  auto rot = rotation::read_state(dir);
  if (!rot) return std::unexpected(rot.error());
  auto state = load_state(dir);
  if (!state) return std::unexpected(state.error());

  HostStatus s;
  s.hostpart = hostpart.path;
  s.booted = find_booted(hostpart, paths);
  s.images = {image_status(dir, kCurrent, "current", *state),
              image_status(dir, kNew, "staged", *state),
              image_status(dir, kOld, "old", *state),
              image_status(dir, kBroken, "broken", *state)};
  s.staged = rot->staged;
  s.revert_pending = rot->revert_flag;
  // The next boot does not inherit this boot's imgroot.revert=1.
  s.next_boot_image = rotation::boot_choice(*rot, false);
  s.next_boot_action = rotation::plan(*rot, false);

  // The init always runs hn-root.img after rotating, so offline the image
  // an assessment is about is hn-root.img.
  s.assessed_image = s.booted.from_this_hostpart ? s.booted.image : std::optional<std::string>();
  if (!s.assessed_image && rot->current) s.assessed_image = kCurrent;
  for (const auto& img : s.images)
    if (s.assessed_image && img.name == *s.assessed_image && img.record)
      s.assessment = img.record->assessment;

  auto identity = host_identity::open_identity_dir(dir);
  if (!identity) return std::unexpected(std::move(identity.error()).context(kHostIdentityDir));
  if (*identity) {
    auto files = host_identity::count_files((*identity)->get());
    if (!files) return std::unexpected(std::move(files.error()).context(kHostIdentityDir));
    s.host_identity_files = *files;
  }
  if (serves_running_system(hostpart, paths, s.booted)) {
    RunningOverlay overlay;
    overlay.mode = s.booted.overlay;
    if (s.booted.root_fstype) overlay.root_is_overlay = *s.booted.root_fstype == "overlay";
    s.overlay = overlay;
  }
  return s;
}

std::optional<std::string> trial_image(const HostStatus& s) {
  if (!s.trial || s.trial->phase == grub::Phase::kNone) return std::nullopt;
  if (s.trial->phase == grub::Phase::kReverting) return kCurrent;
  return s.staged ? kNew : kCurrent;
}

}  // namespace imgroot::state
