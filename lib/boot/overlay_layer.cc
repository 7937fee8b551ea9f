#include "boot/overlay_layer.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>

#include <cstring>
#include <optional>
#include <set>

#include "base/layout.h"
#include "system/fd.h"
#include "system/file.h"
#include "system/tree.h"

namespace imgroot::overlay_layer {

namespace {

using host_files::kLayerXattr;
constexpr size_t kMaxId = 64;

// What imgroot writes: letters, digits and '-'. Anything else (a crafted
// "../x" carried by a copied file) is not a name to use under the layers.
bool plain_id(const std::string& id) {
  if (id.empty() || id.size() > kMaxId) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-'))
      return false;
  return true;
}

// The image file as the init opens it to boot it (a symlink followed),
// without blocking on a FIFO.
Result<Fd> open_image(int dir, const std::string& image) {
  auto fd = Fd::open_at(dir, image, O_RDONLY | O_NONBLOCK);
  if (!fd) return fd;
  struct stat st {};
  if (::fstat(fd->get(), &st) < 0) return fail_errno("stat " + quoted(image));
  if (!S_ISREG(st.st_mode))
    return fail(quoted(image) + " is " + file_type_name(st.st_mode) + ", not an image file");
  return fd;
}

// The identity recorded on the file; nullopt without one (also where the
// filesystem keeps no user extended attributes, and for one imgroot did
// not write).
Result<std::optional<std::string>> recorded(int fd, const std::string& image) {
  char value[kMaxId + 1];
  const ssize_t n = ::fgetxattr(fd, kLayerXattr, value, sizeof value);
  if (n < 0) {
    if (errno == ENODATA || errno == ENOTSUP || errno == ERANGE) return std::nullopt;
    return fail_errno(std::string("read ") + kLayerXattr + " of " + quoted(image));
  }
  std::string id(value, static_cast<size_t>(n));
  if (!plain_id(id)) return std::nullopt;
  return id;
}

// The name layers had before identities: inode number and birth time.
// Inode numbers are reused once a file is deleted; with the birth time the
// pair names one file. Filesystems without birth times get the inode.
Result<std::string> inode_name(int fd, const std::string& image) {
  struct statx st {};
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_BTIME, &st) < 0)
    return fail_errno("stat " + quoted(image));
  std::string name = std::to_string(st.stx_ino);
  if (st.stx_mask & STATX_BTIME) name += "-" + std::to_string(st.stx_btime.tv_sec);
  return name;
}

// 128 random bits in hex. Unique among a few images is what counts, not
// secret: early in boot the entropy pool may not be ready, and PID 1 must
// not wait for it.
std::string random_id() {
  unsigned char bytes[16] = {};
  ssize_t n = ::getrandom(bytes, sizeof bytes, GRND_INSECURE);
  if (n < 0 && errno == EINVAL) n = ::getrandom(bytes, sizeof bytes, GRND_NONBLOCK);  // < 5.6
  if (n != static_cast<ssize_t>(sizeof bytes)) {
    struct timespec real {}, boot {};
    (void)::clock_gettime(CLOCK_REALTIME, &real);  // cannot fail with these clocks
    (void)::clock_gettime(CLOCK_BOOTTIME, &boot);
    const long long parts[2] = {real.tv_sec * 1000000000LL + real.tv_nsec,
                                boot.tv_sec * 1000000000LL + boot.tv_nsec};
    std::memcpy(bytes, parts, sizeof bytes);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

Status record(int fd, const std::string& what, const std::string& id) {
  if (::fsetxattr(fd, kLayerXattr, id.data(), id.size(), 0) < 0)
    return fail_errno(std::string("record ") + kLayerXattr + " on " + quoted(what));
  return {};
}

// The layer an image present has now, as prune must keep it; nullopt when
// there is no such image.
Result<std::optional<std::string>> current_layer(int hostpart_dir, const std::string& image) {
  auto fd = open_image(hostpart_dir, image);
  if (!fd) {
    if (fd.error().code == ENOENT) return std::nullopt;
    return std::unexpected(fd.error());
  }
  auto id = recorded(fd->get(), image);
  if (!id || *id) return id;
  auto legacy = inode_name(fd->get(), image);
  if (!legacy) return std::unexpected(legacy.error());
  return *legacy;
}

// layers/name -> layers/.orphaned/name (name.1, name.2... when taken).
Status move_aside(int layers, const std::string& name, std::string& moved_to) {
  const char* orphaned = host_files::kOrphanedLayersDir;
  auto to = open_or_make_dir_at(layers, orphaned, 0700);
  if (!to) return std::unexpected(to.error());
  for (int n = 0; n < 1000; ++n) {
    moved_to = n == 0 ? name : name + "." + std::to_string(n);
    if (::renameat2(layers, name.c_str(), to->get(), moved_to.c_str(), RENAME_NOREPLACE) == 0)
      return {};
    if (errno != EEXIST) return fail_errno("move " + quoted(name) + " to " + quoted(orphaned));
  }
  return fail("move " + quoted(name) + ": too many orphaned layers of that name");
}

}  // namespace

Status give_new_identity(int image_fd, const std::string& what) {
  return record(image_fd, what, random_id());
}

Result<std::string> layer_for(int hostpart_dir, const std::string& image, const Warn& warn) {
  auto fd = open_image(hostpart_dir, image);
  if (!fd) return std::unexpected(fd.error());
  auto id = recorded(fd->get(), image);
  if (!id) return std::unexpected(id.error());
  if (*id) return **id;
  auto legacy = inode_name(fd->get(), image);
  if (!legacy) return std::unexpected(legacy.error());
  // A layer from before identities keeps its name, now recorded on its image.
  auto had_layer = exists_at(hostpart_dir, std::string(host_files::kOverlayDir) + "/" + *legacy);
  if (!had_layer) return std::unexpected(had_layer.error());
  const std::string chosen = *had_layer ? *legacy : random_id();
  auto recorded_now = record(fd->get(), image, chosen);
  if (!recorded_now && recorded_now.error().code == ENOTSUP) {
    warn(std::string("the host partition keeps no user extended attributes: the overlay layer "
                     "of ") + quoted(image) + " is named after its inode number, and a copy of "
                     "the host partition to another disk loses it");
    return *legacy;
  }
  if (!recorded_now) return std::unexpected(recorded_now.error());
  if (auto synced = fsync_fd(fd->get(), quoted(image)); !synced)
    return std::unexpected(synced.error());
  return chosen;
}

void prune(int hostpart_dir, const Warn& warn) {
  const std::string dir = host_files::kOverlayDir;
  auto layers = Fd::open_at(hostpart_dir, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (!layers) {
    if (layers.error().code != ENOENT) warn(layers.error().message);
    return;  // ENOENT: never used persistent overlays
  }
  std::set<std::string> in_use;
  for (const char* image : {host_files::kCurrent, host_files::kNew, host_files::kOld,
                            host_files::kBroken}) {
    auto name = current_layer(hostpart_dir, image);
    if (!name)
      return warn("overlay layers left as they are: the layer of " + quoted(image) +
                  " is unknown: " + name.error().message);
    if (*name) in_use.insert(**name);
  }
  auto names = list_dir(layers->get());
  if (!names) return warn(names.error().message);
  for (const auto& name : *names) {
    if (name.starts_with(".") || in_use.contains(name)) continue;
    std::string moved_to;
    if (auto moved = move_aside(layers->get(), name, moved_to); !moved)
      warn("cannot move aside the overlay layer of an image that is gone, " + dir + "/" + name +
           ": " + moved.error().message);
    else
      warn("the overlay layer " + dir + "/" + name + " belongs to no image on the host "
           "partition; moved to " + dir + "/" + host_files::kOrphanedLayersDir + "/" + moved_to +
           " (delete it when its changes are not needed)");
  }
}

}  // namespace imgroot::overlay_layer
