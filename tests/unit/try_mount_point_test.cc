// Where `imgroot try --bind` mounts (try/mount_point.h), on a temporary
// directory standing for the image's root: no root needed.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "stage_support.h"
#include "system/fd.h"
#include "try/mount_point.h"

using namespace imgroot;
using imgroot::test::exists;
using imgroot::test::TempDir;

namespace {

// tmp/x/y/root is the image's root: "../../.." from root/etc is tmp/x, on
// the host, outside the root.
struct Image {
  TempDir tmp;
  std::string outside = tmp / "x";
  std::string root = tmp / "x/y/root";
  Fd root_fd;

  Image() {
    for (const auto& dir : {outside, tmp / "x/y", root, root + "/etc"})
      REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
    root_fd = Fd::open(root, O_PATH | O_DIRECTORY).value();
  }
  void link(const std::string& target, const std::string& name) const {
    REQUIRE(::symlink(target.c_str(), (root + name).c_str()) == 0);
  }
  // The inode behind a handle mount_point returned, and the one at a path.
  static ino_t inode(const Fd& fd) {
    struct stat st {};
    REQUIRE(::fstat(fd.get(), &st) == 0);
    return st.st_ino;
  }
  static ino_t inode(const std::string& path) {
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st.st_ino;
  }
};

}  // namespace

TEST_CASE("a file bind through a dangling absolute symlink creates its target inside the root",
          "[try]") {
  Image image;
  const std::string host_target = image.outside + "/created-by-try";
  image.link(host_target, "/etc/resolv.conf");

  auto point = try_::mount_point(image.root_fd.get(), "/etc/resolv.conf", false);

  CHECK_FALSE(exists(host_target));
  REQUIRE(point);
  REQUIRE(exists(image.root + host_target));
  CHECK(Image::inode(*point) == Image::inode(image.root + host_target));
}

TEST_CASE("a file bind through a dangling ../../.. symlink creates its target inside the root",
          "[try]") {
  Image image;
  image.link("../../../created-by-try", "/etc/resolv.conf");

  auto point = try_::mount_point(image.root_fd.get(), "/etc/resolv.conf", false);

  CHECK_FALSE(exists(image.outside + "/created-by-try"));
  REQUIRE(point);
  // ".." stops at the root, as if the root were "/".
  REQUIRE(exists(image.root + "/created-by-try"));
  CHECK(Image::inode(*point) == Image::inode(image.root + "/created-by-try"));
}

TEST_CASE("a bind below a dangling symlinked directory creates the directories inside the root",
          "[try]") {
  Image image;
  image.link(image.outside + "/srv", "/srv");

  auto file = try_::mount_point(image.root_fd.get(), "/srv/app/config", false);
  auto dir = try_::mount_point(image.root_fd.get(), "/srv/data", true);

  CHECK_FALSE(exists(image.outside + "/srv"));
  REQUIRE(file);
  REQUIRE(dir);
  CHECK(Image::inode(*file) == Image::inode(image.root + image.outside + "/srv/app/config"));
  CHECK(Image::inode(*dir) == Image::inode(image.root + image.outside + "/srv/data"));
}

TEST_CASE("a bind on an existing file or a symlink to one uses it as it is", "[try]") {
  Image image;
  test::write_text(image.root + "/etc/hostname", "image\n");
  image.link("hostname", "/etc/name");

  auto direct = try_::mount_point(image.root_fd.get(), "/etc/hostname", false);
  auto linked = try_::mount_point(image.root_fd.get(), "/etc/name", false);

  REQUIRE(direct);
  REQUIRE(linked);
  CHECK(Image::inode(*direct) == Image::inode(image.root + "/etc/hostname"));
  CHECK(Image::inode(*linked) == Image::inode(image.root + "/etc/hostname"));
  CHECK(test::read_text(image.root + "/etc/hostname") == "image\n");
}

TEST_CASE("a bind on a symlink loop is refused", "[try]") {
  Image image;
  image.link("b", "/etc/a");
  image.link("a", "/etc/b");

  auto point = try_::mount_point(image.root_fd.get(), "/etc/a", false);

  REQUIRE_FALSE(point);
  CHECK(point.error().code == ELOOP);
}
