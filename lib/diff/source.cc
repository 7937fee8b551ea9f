#include "diff/source.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "image/mount.h"
#include "image/open.h"

namespace imgroot::diff {

namespace {

std::unexpected<Error> explain(const std::string& path, Error e) {
  return std::unexpected(
      image::explain_mount_error(std::move(e), "mounting an image").context(quoted(path)));
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
  // The operator named the path: a symlink to an image is followed.
  auto image = image::open_image(AT_FDCWD, path, O_RDONLY, image::Symlink::kFollow);
  if (!image) return std::unexpected(image.error());
  auto type = image::probe_image(*image, path);
  if (!type) return std::unexpected(type.error());
  auto mounted = image::mount_read_only(*image, *type);
  if (!mounted) return explain(path, std::move(mounted.error()));
  tree.loop_.emplace(std::move(mounted->loop));
  tree.root_ = std::move(mounted->root);
  tree.fs_type_ = *type;
  tree.image_ = std::move(*image);
  if (warm) tree.warmer_.start(tree.image_.get(), ImageWarmer::default_budget());
  return tree;
}

}  // namespace imgroot::diff
