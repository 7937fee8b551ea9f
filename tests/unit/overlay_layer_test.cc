// The persistent overlay's layer directories (boot/overlay_layer.h) and the
// file and mount-table helpers the static init uses for them and at shutdown.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "base/layout.h"
#include "boot/overlay_layer.h"
#include "root_support.h"
#include "stage_support.h"
#include "system/fd.h"
#include "system/file.h"
#include "system/mount.h"

using namespace imgroot;
using imgroot::test::exists;
using imgroot::test::TempDir;
using imgroot::test::write_text;

namespace {

std::vector<std::string> warnings_of_prune(const std::string& host) {
  auto dir = Fd::open_dir(host);
  REQUIRE(dir);
  std::vector<std::string> warnings;
  overlay_layer::prune(dir->get(), [&](const std::string& w) { warnings.push_back(w); });
  return warnings;
}

std::string layer_of(const std::string& host, const std::string& image) {
  auto dir = Fd::open_dir(host);
  REQUIRE(dir);
  auto name = overlay_layer::layer_for(dir->get(), image, [](const std::string& w) { FAIL(w); });
  REQUIRE(name);
  return *name;
}

// A layer with one changed file, as a persistent overlay leaves it.
void write_layer(const std::string& host, const std::string& name) {
  const std::string upper = host + "/" + host_files::kOverlayDir + "/" + name + "/upper/etc";
  std::filesystem::create_directories(upper);
  write_text(upper + "/changed", name);
}

bool has_layer(const std::string& host, const std::string& name) {
  return exists(host + "/" + host_files::kOverlayDir + "/" + name + "/upper/etc/changed");
}

bool has_orphan(const std::string& host, const std::string& name) {
  return exists(host + "/" + host_files::kOverlayDir + "/" + host_files::kOrphanedLayersDir +
                "/" + name + "/upper/etc/changed");
}

// How layers were named before identities: inode number and birth time.
std::string inode_name(const std::string& path) {
  struct statx st {};
  REQUIRE(::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_BTIME, &st) == 0);
  std::string name = std::to_string(st.stx_ino);
  if (st.stx_mask & STATX_BTIME) name += "-" + std::to_string(st.stx_btime.tv_sec);
  return name;
}

// cp -a: a copy of the host partition's contents to another "disk" ("dir/.").
void copy_preserving_all(const std::string& from, const std::string& to) {
  auto ran = test::run("cp -a " + test::shell_quote(from) + " " + test::shell_quote(to));
  INFO(ran.output);
  REQUIRE(ran.status == 0);
}

}  // namespace

TEST_CASE("an image's layer follows it through renames, and a new file gets another", "[overlay]") {
  TempDir host;
  write_text(host / host_files::kNew, "image B");
  const std::string staged = layer_of(host.path(), host_files::kNew);
  REQUIRE(::rename((host / host_files::kNew).c_str(), (host / host_files::kCurrent).c_str()) == 0);
  CHECK(layer_of(host.path(), host_files::kCurrent) == staged);

  write_text(host / host_files::kNew, "image C");
  CHECK(layer_of(host.path(), host_files::kNew) != staged);
  auto dir = Fd::open_dir(host.path());
  REQUIRE(dir);
  CHECK_FALSE(overlay_layer::layer_for(dir->get(), host_files::kOld, [](const std::string&) {}));
}

TEST_CASE("a copy of the host partition made with cp -a keeps every image's layer", "[overlay]") {
  TempDir old_disk, new_disk;
  write_text(old_disk / host_files::kCurrent, "A");
  write_text(old_disk / host_files::kOld, "B");
  const std::string a = layer_of(old_disk.path(), host_files::kCurrent);
  const std::string b = layer_of(old_disk.path(), host_files::kOld);
  write_layer(old_disk.path(), a);
  write_layer(old_disk.path(), b);

  copy_preserving_all(old_disk / ".", new_disk.path());
  CHECK(warnings_of_prune(new_disk.path()).empty());
  CHECK(layer_of(new_disk.path(), host_files::kCurrent) == a);
  CHECK(layer_of(new_disk.path(), host_files::kOld) == b);
  CHECK(has_layer(new_disk.path(), a));
  CHECK(has_layer(new_disk.path(), b));
}

TEST_CASE("a layer named by inode and birth time before identities stays its image's layer",
          "[overlay]") {
  TempDir old_disk, new_disk;
  write_text(old_disk / host_files::kCurrent, "A");
  const std::string legacy = inode_name(old_disk / host_files::kCurrent);
  write_layer(old_disk.path(), legacy);
  CHECK(warnings_of_prune(old_disk.path()).empty());  // the boot after the upgrade prunes first
  CHECK(has_layer(old_disk.path(), legacy));
  CHECK(layer_of(old_disk.path(), host_files::kCurrent) == legacy);  // then mounts it

  copy_preserving_all(old_disk / ".", new_disk.path());
  REQUIRE(inode_name(new_disk / host_files::kCurrent) != legacy);
  CHECK(warnings_of_prune(new_disk.path()).empty());
  CHECK(layer_of(new_disk.path(), host_files::kCurrent) == legacy);
  CHECK(has_layer(new_disk.path(), legacy));
}

TEST_CASE("a newly staged copy of an image gets a layer of its own", "[overlay]") {
  TempDir host;
  write_text(host / host_files::kCurrent, "A");
  const std::string a = layer_of(host.path(), host_files::kCurrent);
  copy_preserving_all(host / host_files::kCurrent, host / host_files::kNew);  // with the xattr
  auto staged = Fd::open_at(AT_FDCWD, host / host_files::kNew, O_RDWR);
  REQUIRE(staged);
  REQUIRE(overlay_layer::give_new_identity(staged->get(), host_files::kNew));
  CHECK(layer_of(host.path(), host_files::kNew) != a);
}

TEST_CASE("a layer identity that is not a plain id is replaced, never used as a path",
          "[overlay]") {
  TempDir host;
  write_text(host / host_files::kCurrent, "A");
  const std::string bad = "../../escape";
  REQUIRE(::setxattr((host / host_files::kCurrent).c_str(), host_files::kLayerXattr, bad.data(),
                     bad.size(), 0) == 0);
  const std::string name = layer_of(host.path(), host_files::kCurrent);
  CHECK(name.find('/') == std::string::npos);
  CHECK(name.find("..") == std::string::npos);
  CHECK(layer_of(host.path(), host_files::kCurrent) == name);
}

TEST_CASE("prune moves the layers of images that are gone aside and says so", "[overlay]") {
  TempDir host, outside;
  write_text(outside / "keep", "keep");
  write_text(host / host_files::kCurrent, "A");
  write_text(host / host_files::kOld, "B");
  const std::string a = layer_of(host.path(), host_files::kCurrent);
  const std::string b = layer_of(host.path(), host_files::kOld);
  for (const auto& name : {a, b, std::string("1-1"), std::string("2")}) write_layer(host.path(), name);
  const std::string layers = host / host_files::kOverlayDir;
  REQUIRE(::symlink(outside.path().c_str(), (layers + "/2/upper/link-out").c_str()) == 0);

  auto warnings = warnings_of_prune(host.path());
  CHECK(has_layer(host.path(), a));
  CHECK(has_layer(host.path(), b));
  CHECK_FALSE(exists(layers + "/1-1"));
  CHECK_FALSE(exists(layers + "/2"));
  CHECK(has_orphan(host.path(), "1-1"));
  CHECK(has_orphan(host.path(), "2"));
  REQUIRE(warnings.size() == 2);
  CHECK_THAT(warnings[0], Catch::Contains(".orphaned/1-1"));
  CHECK_THAT(warnings[1], Catch::Contains(".orphaned/2"));
  CHECK(exists(outside / "keep"));

  write_layer(host.path(), "1-1");  // another orphan of that name
  CHECK(warnings_of_prune(host.path()).size() == 1);
  CHECK(has_orphan(host.path(), "1-1"));
  CHECK(has_orphan(host.path(), "1-1.1"));
  CHECK(warnings_of_prune(host.path()).empty());  // the orphans stay where they are
}

TEST_CASE("prune moves nothing when the identity of an image present cannot be read",
          "[overlay]") {
  TempDir host;
  write_text(host / host_files::kCurrent, "A");
  const std::string a = layer_of(host.path(), host_files::kCurrent);
  write_layer(host.path(), a);
  write_layer(host.path(), "1-1");
  // Not a file the init could boot: its identity is unknown, and so is
  // whether "1-1" is its layer.
  REQUIRE(::mkdir((host / host_files::kOld).c_str(), 0755) == 0);

  auto warnings = warnings_of_prune(host.path());
  CHECK(has_layer(host.path(), a));
  CHECK(has_layer(host.path(), "1-1"));
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Contains(host_files::kOld));
}

TEST_CASE("prune without persistent layers does nothing", "[overlay]") {
  TempDir host;
  CHECK(warnings_of_prune(host.path()).empty());
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

TEST_CASE("without user extended attributes a layer is named by inode, with a warning",
          "[overlay][root]") {
  if (::geteuid() != 0) {
    WARN("skipped: mounting a filesystem without user xattrs (ramfs) needs root");
    return;
  }
  test::enter_private_mount_namespace();
  TempDir host;
  REQUIRE(::mount("ramfs", host.path().c_str(), "ramfs", 0, nullptr) == 0);
  write_text(host / host_files::kCurrent, "A");
  auto dir = Fd::open_dir(host.path());
  REQUIRE(dir);
  std::vector<std::string> warnings;
  auto name = overlay_layer::layer_for(dir->get(), host_files::kCurrent,
                                       [&](const std::string& w) { warnings.push_back(w); });
  REQUIRE(name);
  CHECK(*name == inode_name(host / host_files::kCurrent));
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Contains("no user extended attributes"));
  write_layer(host.path(), *name);
  CHECK(warnings_of_prune(host.path()).empty());
  CHECK(has_layer(host.path(), *name));
  REQUIRE(::umount2(host.path().c_str(), MNT_DETACH) == 0);
}
