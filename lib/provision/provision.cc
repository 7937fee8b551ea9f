#include "provision/provision.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "base/layout.h"
#include "image/mount.h"
#include "image/open.h"
#include "provision/boot_files.h"
#include "provision/filesystems.h"
#include "provision/in_use.h"
#include "provision/parted.h"
#include "provision/partitions.h"
#include "state/boot_loader_sync.h"
#include "system/detached_mount.h"
#include "system/file.h"
#include "system/loop.h"

namespace imgroot::provision {

namespace {

Result<ImageInfo> check_image(const Request& request, const Target& target) {
  auto image = image::open_image(AT_FDCWD, request.image, O_RDONLY, image::Symlink::kFollow);
  if (!image) return std::unexpected(image.error());
  struct stat st {};
  if (::fstat(image->get(), &st) < 0) return fail_errno("stat " + quoted(request.image));
  if (target.is_file_of(st))
    return fail("the image and the disk are the same file");
  auto type = image::probe_image(*image, request.image);
  if (!type) return std::unexpected(type.error());
  // The node boots through the GRUB provision installs.
  if (auto s = image::refuse_unreadable_by_grub(*type, request.image); !s)
    return std::unexpected(s.error());
  if (auto s = image::inspect_image(*image, *type, request.init); !s)
    return std::unexpected(std::move(s.error()).context("image " + quoted(request.image)));
  ImageInfo info;
  info.fs_type = *type;
  info.size = static_cast<std::uint64_t>(st.st_size);
  info.allocated = std::min(static_cast<std::uint64_t>(st.st_blocks) * 512, info.size);
  return info;
}

// Zero the first and the last MiB of the disk: the old partition tables
// (primary and backup GPT, MBR) and whole-disk signatures such as a btrfs
// superblock at 64 KiB, which libblkid would otherwise still find.
Status wipe_disk_ends(const Fd& disk, std::uint64_t size, const std::string& device) {
  const std::vector<char> zeros(std::min(size, kMiB), 0);
  for (std::uint64_t offset : {std::uint64_t{0}, size - zeros.size()}) {
    std::size_t done = 0;
    while (done < zeros.size()) {
      ssize_t n = ::pwrite(disk.get(), zeros.data() + done, zeros.size() - done,
                           static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail_errno("wipe the old partition table of " + quoted(device));
      }
      done += static_cast<std::size_t>(n);
    }
  }
  return fsync_fd(disk.get(), quoted(device));
}

// Mount the new host partition where no one else sees it, make data/ and
// imgroot/, and stage the image as hn-root.img with stage's own code (its
// checks, copy, hash and record), renamed from hn-root-new.img: on a new
// disk there is no current image for the init to rotate. The filesystem is
// unmounted, and written back, when the last fd on it closes.
Result<stage::Staged> fill_hostpart(const std::string& node, const Plan& plan,
                                    const stage::CopyControl& copy) {
  using namespace host_files;
  auto root = mount_detached(node, host_fs_name(plan.request.fs), {}, /*read_only=*/false);
  if (!root) return std::unexpected(root.error());
  auto dir = Fd::open_at(root->get(), ".", O_RDONLY | O_DIRECTORY);
  if (!dir) return std::unexpected(dir.error());
  for (const char* sub : {kDataDir, kStateDir})
    if (auto made = make_dir_at(dir->get(), sub, 0755); !made)
      return std::unexpected(std::move(made.error()).context("the new host partition"));
  if (auto s = fsync_fd(dir->get(), "host partition directory"); !s) return std::unexpected(s.error());

  stage::StageRequest request;
  request.image = plan.request.image;
  request.init = plan.request.init;
  auto staged = stage::stage_image(dir->get(), request, copy);
  if (!staged)
    return std::unexpected(std::move(staged.error()).context("stage " + quoted(plan.request.image)));
  if (auto s = rename_at(dir->get(), kNew, kCurrent); !s) return std::unexpected(s.error());
  if (auto s = fsync_fd(dir->get(), "host partition directory"); !s) return std::unexpected(s.error());
  if (auto s = state::sync_for_boot_loader(dir->get()); !s) return std::unexpected(s.error());
  return staged;
}

Status sync_device(const std::string& device) {
  auto fd = Fd::open(device, O_RDONLY);
  if (!fd) return std::unexpected(fd.error());
  return fsync_fd(fd->get(), quoted(device));
}

std::string base_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

}  // namespace

Result<Plan> make_plan(const Request& request, const SystemPaths& paths) {
  Plan plan;
  plan.request = request;
  auto target = open_target(request.disk, paths);
  if (!target) return std::unexpected(target.error());
  plan.target = std::move(*target);
  if (auto s = check_not_in_use(plan.target, paths); !s) return std::unexpected(s.error());
  if (auto s = check_exclusive(plan.target); !s) return std::unexpected(s.error());
  if (auto s = check_partitionable(plan.target); !s) return std::unexpected(s.error());
  auto image = check_image(request, plan.target);
  if (!image) return std::unexpected(image.error());
  plan.image = *image;
  auto layout = compute_layout(plan.target.size, request.esp_size, request.fs, plan.image.allocated);
  if (!layout) return std::unexpected(layout.error());
  plan.layout = *layout;
  return plan;
}

Result<Provisioned> carry_out(const Plan& plan, const std::string& grub_cfg,
                              const SystemPaths& paths, const Progress& progress) {
  auto step = [&](const std::string& what) {
    if (progress.step) progress.step(what);
  };
  const Target& target = plan.target;
  // The plan may be old: check again right before the first write.
  if (auto s = check_not_in_use(target, paths); !s) return std::unexpected(s.error());
  if (auto s = check_exclusive(target); !s) return std::unexpected(s.error());

  Provisioned out;
  auto opened = Fd::open(target.path, O_RDWR);
  if (!opened) return std::unexpected(opened.error());
  std::optional<LoopDevice> loop;
  std::string name = target.sys_name;
  out.device = target.path;
  if (target.is_file()) {
    auto attached = LoopDevice::attach(*opened, /*read_only=*/false, /*scan_partitions=*/true);
    if (!attached)
      return std::unexpected(std::move(attached.error()).context("attach " + quoted(target.path)));
    loop.emplace(std::move(*attached));
    out.device = loop->path();
    name = base_name(out.device);
  }
  const Fd& disk = loop ? loop->fd() : *opened;
  const Layout& layout = plan.layout;

  // From here on the disk changes: a failure says so.
  auto partly = [&](Error e) {
    e.message += "; the disk is left partly written (nothing is mounted or attached): "
                 "provision it again";
    return std::unexpected(std::move(e));
  };
  auto interrupted = [&] { return progress.copy.cancel && *progress.copy.cancel; };

  step("writing a GPT partition table on " + out.device);
  if (auto s = wipe_disk_ends(disk, layout.disk_size, out.device); !s) return partly(s.error());
  std::vector<GptEntry> entries{
      {layout.esp, labels::kEsp, "fat32", true},
      {layout.hostpart, labels::kHostpart, host_fs_name(plan.request.fs), false}};
  if (auto s = write_gpt(out.device, entries); !s) return partly(s.error());
  auto nodes = PartitionNodes::expose(disk, name, {layout.esp, layout.hostpart}, paths);
  if (!nodes) return partly(nodes.error());
  out.made_nodes = nodes->made_nodes();
  const std::string esp = nodes->node(1), host = nodes->node(2);
  if (interrupted()) return partly(Error::plain("interrupted"));

  step(std::string("making ") + (layout.esp.size >= kMinFat32Size ? "FAT32" : "FAT") + " '" +
       labels::kEsp + "' on " + esp);
  if (auto s = wipe_start(esp, layout.esp.size); !s) return partly(s.error());
  if (auto s = make_esp_filesystem(esp, layout.esp.size); !s) return partly(s.error());
  step(std::string("making ") + host_fs_name(plan.request.fs) + " '" + labels::kHostpart +
       "' on " + host);
  if (auto s = wipe_start(host, layout.hostpart.size); !s) return partly(s.error());
  if (auto s = make_host_filesystem(host, plan.request.fs); !s) return partly(s.error());
  if (interrupted()) return partly(Error::plain("interrupted"));

  step("staging " + quoted(plan.request.image) + " as " + host_files::kCurrent +
       ", with data/ and imgroot/");
  auto staged = fill_hostpart(host, plan, progress.copy);
  if (!staged) return partly(interrupted() ? Error::plain("interrupted") : staged.error());
  out.staged = std::move(*staged);

  step(std::string("installing GRUB (grub-mkimage) as ") + esp_files::kGrubEfiPath + ", with grub/grub.cfg and grub/grubenv");
  if (auto s = install_boot_files(esp, grub_cfg, paths.work_dir_base); !s) return partly(s.error());
  for (const auto& device : {esp, host, out.device})
    if (auto s = sync_device(device); !s) return partly(s.error());
  return out;
}

}  // namespace imgroot::provision
