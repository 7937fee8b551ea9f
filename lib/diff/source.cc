#include "diff/source.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "image/filesystems.h"
#include "image/no_replay.h"
#include "stage/inspect.h"
#include "system/detached_mount.h"
#include "system/mount_hints.h"

namespace imgroot::diff {

namespace {

std::unexpected<Error> explain(const std::string& path, const Error& e) {
  return std::unexpected(Error{e.code, quoted(path) + ": " + with_mount_hint(e, "mounting an image")});
}

}  // namespace

Result<Tree> Tree::open(const std::string& path, bool warm) {
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) return fail_errno("stat " + quoted(path));
  Tree tree;
  if (S_ISDIR(st.st_mode)) {
    auto dir = Fd::open(path, O_RDONLY | O_DIRECTORY);
    if (!dir) return std::unexpected(dir.error());
    tree.root_ = std::move(*dir);
    return tree;
  }
  auto image = stage::open_image(path);  // refuses what is not a regular file
  if (!image) return std::unexpected(image.error());
  auto type = stage::probe_image(*image, path);
  if (!type) return std::unexpected(type.error());
  auto loop = LoopDevice::attach(*image, /*read_only=*/true);
  if (!loop) return explain(path, loop.error());
  const std::string mount_type = image_mount_type(*type);
  auto root = mount_detached_read_only(loop->path(), mount_type, no_replay_options(mount_type));
  if (!root) return explain(path, root.error());
  tree.loop_.emplace(std::move(*loop));
  tree.root_ = std::move(*root);
  tree.fs_type_ = *type;
  tree.image_ = std::move(*image);
  if (warm) tree.warmer_.start(tree.image_.get(), ImageWarmer::default_budget());
  return tree;
}

}  // namespace imgroot::diff
