#include "image_root.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/layout.h"
#include "boot/overlay_layer.h"
#include "image/filesystems.h"
#include "image/open.h"
#include "log.h"
#include "system/fd.h"

namespace imgroot::init {

void ImageRoot::release() {
  for (auto& m : mounts) m.release();
}

namespace {

// mkdir -p below 'dir' ("a/b/c"), for the persistent layer's directories.
Status make_dirs_at(int dir, const std::string& relative, mode_t mode) {
  for (size_t end = relative.find('/'); ; end = relative.find('/', end + 1)) {
    const std::string prefix = relative.substr(0, end);
    if (::mkdirat(dir, prefix.c_str(), mode) < 0 && errno != EEXIST)
      return fail_errno("create " + quoted(prefix) + " on the host partition");
    if (end == std::string::npos) return {};
  }
}

// The directory that holds the overlay's upper and work directories: a
// fresh tmpfs under 'scratch', or the image's own directory on the host
// partition (boot/overlay_layer.h).
Result<std::string> overlay_layers(ImageRoot& root, const ImageFile& source,
                                   const BootConfig& config, const std::string& scratch) {
  if (config.overlay == Overlay::kTmpfs) {
    const std::string layers = scratch + "/overlay";
    (void)::mkdir(layers.c_str(), 0755);  // EEXIST; the mount says otherwise
    auto tmpfs = Mount::create("tmpfs", layers, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
    if (!tmpfs) return std::unexpected(tmpfs.error());
    root.mounts.push_back(std::move(*tmpfs));
    return layers;
  }
  auto name = overlay_layer::layer_for(source.hostpart_dir, source.image, warn);
  if (!name) return std::unexpected(name.error());
  const std::string relative = std::string(host_files::kOverlayDir) + "/" + *name;
  if (auto st = make_dirs_at(source.hostpart_dir, relative, 0755); !st)
    return std::unexpected(st.error());
  info("imgroot.overlay=persistent: changes go to " + relative + " on the host partition");
  return source.hostpart_path + "/" + relative;
}

Status mount_overlay(ImageRoot& root, const ImageFile& source, const BootConfig& config,
                     const std::string& target, const std::string& scratch) {
  const std::string lower = run_paths::kOverlayLower;
  for (const auto& dir : {scratch, lower}) (void)::mkdir(dir.c_str(), 0755);
  auto image = Mount::create(root.loop.path(), lower, root.fs_type, MS_RDONLY);
  if (!image) return std::unexpected(image.error());
  root.mounts.push_back(std::move(*image));
  auto layers = overlay_layers(root, source, config, scratch);
  if (!layers) return std::unexpected(layers.error());
  for (const char* sub : {"/upper", "/work"}) {
    if (::mkdir((*layers + sub).c_str(), 0755) < 0 && errno != EEXIST)
      return fail_errno("create " + quoted(*layers + sub));
  }
  auto overlay = Mount::create("overlay", target, "overlay", 0,
                               "lowerdir=" + lower + ",upperdir=" + *layers + "/upper,workdir=" +
                                   *layers + "/work");
  if (!overlay) return std::unexpected(overlay.error());
  root.mounts.push_back(std::move(*overlay));
  return {};
}

}  // namespace

Result<ImageRoot> mount_image(const ImageFile& source, const BootConfig& config,
                              const std::string& target, const std::string& scratch) {
  const int hostpart_dir = source.hostpart_dir;
  const std::string& image = source.image;
  const bool overlay = config.overlay != Overlay::kNone;
  const bool read_only = config.read_only || overlay;
  // Never through a link, never blocking on a FIFO: only a regular file is
  // an image (rotation sets anything else aside before this).
  auto file = image::open_image(hostpart_dir, image, read_only ? O_RDONLY : O_RDWR,
                                image::Symlink::kRefuse);
  if (!file) return std::unexpected(file.error());
  auto type = image::probe_image(*file, image);
  if (!type) return std::unexpected(type.error());

  auto loop = LoopDevice::attach(*file, read_only);
  if (!loop) return std::unexpected(loop.error());
  ImageRoot root{std::move(*loop), image_mount_type(*type), {}};

  if (overlay) {
    if (auto st = mount_overlay(root, source, config, target, scratch); !st)
      return std::unexpected(st.error());
    return root;
  }
  auto mounted = Mount::create(root.loop.path(), target, root.fs_type,
                               read_only ? MS_RDONLY : 0, config.rootflags);
  if (!mounted) return std::unexpected(std::move(mounted.error()).context(quoted(image)));
  root.mounts.push_back(std::move(*mounted));
  return root;
}

}  // namespace imgroot::init
