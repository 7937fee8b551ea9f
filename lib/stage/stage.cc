#include "stage/stage.h"

#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>

#include <climits>
#include <cstdlib>

#include "base/bytes.h"
#include "base/layout.h"
#include "boot/overlay_layer.h"
#include "boot/rotation.h"
#include "image/mount.h"
#include "image/open.h"
#include "state/boot_loader_sync.h"
#include "state/known_bad.h"
#include "state/state_file.h"
#include "system/file.h"

namespace imgroot::stage {

using namespace host_files;

namespace {

#ifndef XFS_SUPER_MAGIC
constexpr long XFS_SUPER_MAGIC = 0x58465342;
#endif

Status refuse_pending_revert(const rotation::HostState& s, bool cancel_revert) {
  if (!s.revert_flag || cancel_revert) return {};
  return fail(std::string("a revert is pending (") + kRevertFlag +
              "): the next boot goes back to " + kOld +
              " and would leave this image staged for the boot after; pass --cancel-revert "
              "to cancel the revert and stage, or leave the revert be and stage later");
}

std::string absolute(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : path;
}

Status record(int dir, const Partial& partial, const Copied& copy, const StageRequest& request) {
  struct stat st {};
  if (::fstat(partial.fd().get(), &st) < 0) return fail_errno("stat " + quoted(host_files::kPartial));
  auto state = state::load_state(dir);
  if (!state) return std::unexpected(state.error());
  // The staged image this copy replaces takes its record with it.
  auto replaced = stat_at(dir, kNew);
  if (!replaced) return std::unexpected(replaced.error());
  if (*replaced) std::erase_if(state->images, [&](const auto& old) { return old.describes(**replaced); });
  state::ImageRecord r = state::record_for(st);
  r.sha256 = copy.sha256;
  r.reflinked = copy.reflinked;
  r.source = request.source.empty() ? absolute(request.image) : request.source;
  r.release = request.release;
  r.release_version = request.release_version;
  r.bytes_fetched = request.bytes_fetched;
  r.bytes_reused = request.bytes_reused;
  r.signed_by = request.signed_by;
  r.staged_at = state::now_rfc3339();
  state->images.push_back(std::move(r));
  return state::save_state(dir, std::move(*state), st);
}

Result<std::pair<Partial, Copied>> copy_in(int dir, const Fd& image, const CopyControl& control) {
  if (auto st = check_free_space(dir, image); !st) return std::unexpected(st.error());
  return copy_to_partial(dir, image, control);
}

Result<std::pair<Partial, Copied>> adopt(int dir, const Fd& image, const StageRequest& request) {
  struct stat st {};
  if (::fstat(image.get(), &st) < 0) return fail_errno("stat " + quoted(request.image));
  auto partial = Partial::adopt(dir, request.adopt);
  if (!partial) return std::unexpected(partial.error());
  Copied copy;
  copy.size = static_cast<std::uint64_t>(st.st_size);
  copy.sha256 = request.adopt_sha256;
  copy.data_bytes = static_cast<std::uint64_t>(st.st_blocks) * 512;
  return std::pair<Partial, Copied>(std::move(*partial), std::move(copy));
}

}  // namespace

Status refuse_given_up(int dir, const std::string& sha256, bool force) {
  auto state = state::load_state(dir);
  if (!state) return std::unexpected(state.error());
  if (auto noted = state::remember_broken(dir, *state); !noted) return std::unexpected(noted.error());
  return state::refuse_known_bad(*state, sha256, force);
}

Status check_free_space(int dir, const Fd& image) {
  struct stat src {}, hp {};
  struct statfs fs {};
  struct statvfs vfs {};
  if (::fstat(image.get(), &src) < 0 || ::fstat(dir, &hp) < 0) return fail_errno("stat");
  if (::fstatfs(dir, &fs) < 0 || ::fstatvfs(dir, &vfs) < 0)
    return fail_errno("measure free space on the host partition");
  const bool reflink = src.st_dev == hp.st_dev &&
                       (fs.f_type == BTRFS_SUPER_MAGIC || fs.f_type == XFS_SUPER_MAGIC);
  if (reflink) return {};
  // Holes stay holes: the copy takes what the source has allocated.
  auto allocated = static_cast<std::uint64_t>(src.st_blocks) * 512;
  auto needed = std::min(allocated, static_cast<std::uint64_t>(src.st_size));
  auto available = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  if (needed <= available) return {};
  return fail("not enough space on the host partition: the copy needs " + format_bytes(needed) +
              ", " + format_bytes(available) + " is free (" + format_bytes(needed - available) +
              " missing); remove " + kBroken + " or other files there, and stage again");
}

Result<Staged> stage_image(int dir, const StageRequest& request, const CopyControl& control) {
  auto host = rotation::read_state(dir);
  if (!host) return std::unexpected(host.error());
  if (auto st = refuse_pending_revert(*host, request.cancel_revert); !st)
    return std::unexpected(st.error());

  Staged out;
  // The operator named the file: a symlink to it is followed.
  auto image = image::open_image(AT_FDCWD, request.image, O_RDONLY, image::Symlink::kFollow);
  if (!image) return std::unexpected(image.error());
  auto type = image::probe_image(*image, request.image);
  if (!type) return std::unexpected(type.error());
  if (!request.boots_without_grub) {
    if (auto st = image::refuse_unreadable_by_grub(*type, request.image,
                                            ", or pass --boots-without-grub if the node boots "
                                            "without GRUB (PXE, a direct kernel boot)");
        !st)
      return std::unexpected(st.error());
  }
  out.fs_type = *type;
  if (request.inspect) {
    if (auto st = image::inspect_image(*image, *type, request.init, "pass --no-inspect"); !st)
      return std::unexpected(st.error());
  }

  if (auto stale = remove_stale_partial(dir); !stale) return std::unexpected(stale.error());
  auto copied = request.adopt.empty() ? copy_in(dir, *image, control) : adopt(dir, *image, request);
  if (!copied) return std::unexpected(copied.error());
  auto& [partial, copy] = *copied;
  out.copy = copy;
  if (auto st = refuse_given_up(dir, copy.sha256, request.force); !st)
    return std::unexpected(st.error());
  if (request.before_publish)
    if (auto st = request.before_publish(); !st) return std::unexpected(st.error());

  // A new image starts with an empty overlay layer, even when the file it
  // was copied from carried an identity. Without user extended attributes
  // (ENOTSUP) the init names the layer after the inode.
  if (auto st = overlay_layer::give_new_identity(partial.fd().get(), host_files::kPartial);
      !st && st.error().code != ENOTSUP)
    return std::unexpected(st.error());
  if (auto st = record(dir, partial, copy, request); !st)
    return std::unexpected(st.error());
  // A revert may have been asked for while the copy ran.
  auto now = rotation::read_state(dir);
  if (!now) return std::unexpected(now.error());
  if (auto st = refuse_pending_revert(*now, request.cancel_revert); !st)
    return std::unexpected(st.error());
  if (now->revert_flag) {
    // Durably gone before the image appears: a crash in between must not
    // leave a revert and an upgrade pending together.
    if (auto st = remove_durably_at(dir, kRevertFlag); !st) return std::unexpected(st.error());
    out.cancelled_revert = true;
  }
  if (auto st = partial.publish(); !st) return std::unexpected(st.error());
  if (auto st = state::sync_for_boot_loader(dir); !st) return std::unexpected(st.error());
  return out;
}

}  // namespace imgroot::stage
