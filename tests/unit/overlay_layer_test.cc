// The persistent overlay's layer directories (boot/overlay_layer.h) and the
// file and mount-table helpers the static init uses for them and at shutdown.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "boot/host_files.h"
#include "boot/overlay_layer.h"
#include "stage_support.h"
#include "system/fd.h"
#include "system/file.h"
#include "system/mount.h"

using namespace imgroot;
using imgroot::test::exists;
using imgroot::test::TempDir;
using imgroot::test::write_text;

TEST_CASE("an image's layer follows it through renames, and a new file gets another", "[overlay]") {
  TempDir host;
  auto dir = Fd::open_dir(host.path());
  REQUIRE(dir);
  write_text(host / host_files::kNew, "image B");
  auto staged = overlay_layer::name_for(dir->get(), host_files::kNew);
  REQUIRE(staged);
  REQUIRE(::rename((host / host_files::kNew).c_str(), (host / host_files::kCurrent).c_str()) == 0);
  auto current = overlay_layer::name_for(dir->get(), host_files::kCurrent);
  REQUIRE(current);
  CHECK(*current == *staged);

  write_text(host / host_files::kNew, "image C");
  auto next = overlay_layer::name_for(dir->get(), host_files::kNew);
  REQUIRE(next);
  CHECK(*next != *current);
  CHECK_FALSE(overlay_layer::name_for(dir->get(), host_files::kOld));  // no such image
}

TEST_CASE("prune keeps the layers of the images present and deletes the others", "[overlay]") {
  TempDir host, outside;
  write_text(outside / "keep", "keep");
  auto dir = Fd::open_dir(host.path());
  REQUIRE(dir);
  write_text(host / host_files::kCurrent, "A");
  write_text(host / host_files::kOld, "B");
  auto a = overlay_layer::name_for(dir->get(), host_files::kCurrent);
  auto b = overlay_layer::name_for(dir->get(), host_files::kOld);
  REQUIRE(a);
  REQUIRE(b);
  const std::string layers = host / host_files::kOverlayDir;
  for (const auto& name : {*a, *b, std::string("1-1"), std::string("2")}) {
    std::filesystem::create_directories(layers + "/" + name + "/upper/etc");
    write_text(layers + "/" + name + "/upper/etc/changed", name);
  }
  REQUIRE(::symlink(outside.path().c_str(), (layers + "/2/upper/link-out").c_str()) == 0);

  std::vector<std::string> warnings;
  overlay_layer::prune(dir->get(), [&](const std::string& w) { warnings.push_back(w); });
  CHECK(warnings.empty());
  CHECK(exists(layers + "/" + *a + "/upper/etc/changed"));
  CHECK(exists(layers + "/" + *b + "/upper/etc/changed"));
  CHECK_FALSE(exists(layers + "/1-1"));
  CHECK_FALSE(exists(layers + "/2"));
  CHECK(exists(outside / "keep"));  // the symlink was removed, not followed
}

TEST_CASE("prune without persistent layers does nothing", "[overlay]") {
  TempDir host;
  auto dir = Fd::open_dir(host.path());
  REQUIRE(dir);
  int warned = 0;
  overlay_layer::prune(dir->get(), [&](const std::string&) { ++warned; });
  CHECK(warned == 0);
}

TEST_CASE("remove_tree_at removes a tree without following symlinks", "[files]") {
  TempDir outside, tree;
  write_text(outside / "keep", "keep");
  std::filesystem::create_directories(tree / "top/a/b");
  write_text(tree / "top/a/b/file", "x");
  REQUIRE(::symlink(outside.path().c_str(), (tree / "top/a/to-outside").c_str()) == 0);
  auto dir = Fd::open_dir(tree.path());
  REQUIRE(dir);
  CHECK(remove_tree_at(dir->get(), "top").has_value());
  CHECK_FALSE(exists(tree / "top"));
  CHECK(exists(outside / "keep"));
  CHECK(remove_tree_at(dir->get(), "top").has_value());  // already gone
}

TEST_CASE("read_mount_points gives field 5 in order, escapes decoded", "[mount]") {
  TempDir dir;
  write_text(dir / "mountinfo",
             "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/loop0 rw\n"
             "23 22 0:22 / /hostpart rw shared:2 - ext4 /dev/vda2 rw\n"
             "24 23 0:23 / /hostpart/with\\040space rw - tmpfs tmpfs rw\n"
             "25 22 0:24 / /back\\134slash rw - tmpfs tmpfs rw\n");
  auto points = read_mount_points(dir / "mountinfo");
  REQUIRE(points);
  CHECK(*points ==
        std::vector<std::string>{"/", "/hostpart", "/hostpart/with space", "/back\\slash"});
  CHECK_FALSE(read_mount_points(dir / "missing"));
}

TEST_CASE("read_mount_points reads this process's mount table", "[mount]") {
  auto points = read_mount_points();
  REQUIRE(points);
  CHECK(std::find(points->begin(), points->end(), "/") != points->end());
}
