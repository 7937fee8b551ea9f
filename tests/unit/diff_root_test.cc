// imgroot diff on two ext4 images made with mkfs.ext4 -d, with every kind
// of difference planted: the text and JSON reports against golden files in
// tests/fixtures/diff/. Needs root (mknod, chown, loop devices); skips with
// a message otherwise.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdlib>

#include "diff_support.h"
#include "root_support.h"

using namespace imgroot::test;

namespace {

bool can_mount_images() { return have_root_and_loop_devices(); }

void node(const std::string& path, mode_t type, unsigned major, unsigned minor) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  REQUIRE(::mknod(path.c_str(), type | 0600, ::makedev(major, minor)) == 0);
}

// The two source trees: what both have, then what differs, one kind at a time.
void plant(const std::string& a, const std::string& b) {
  for (const auto& root : {a, b}) {
    dir(root);
    file(root + "/etc/hosts", "127.0.0.1 localhost\n");
    file(root + "/usr/bin/a", "tool\n", 0755);
    file(root + "/usr/bin/c", "tool\n", 0755);
    dir(root + "/usr/lib");
    dir(root + "/var");
  }
  // removed: a file, a directory with a file in it, a symlink
  file(a + "/etc/gone", "gone\n");
  file(a + "/var/old/log", "old\n");
  symlink("a", a + "/usr/bin/old-link");
  // added: a file, a directory with a file in it, a symlink
  file(b + "/etc/motd", "hello\n");
  file(b + "/usr/lib/new/tool", "new\n", 0755);
  symlink("a", b + "/usr/bin/new-link");
  // type: file -> directory, file -> symlink
  file(a + "/etc/file-to-dir", "f\n");
  file(b + "/etc/file-to-dir/inside", "i\n");
  file(a + "/etc/file-to-link", "f\n");
  symlink("hosts", b + "/etc/file-to-link");
  // mode, owner, size, content of the same size, symlink target
  file(a + "/etc/mode", "m\n", 0644);
  file(b + "/etc/mode", "m\n", 0600);
  file(a + "/etc/owner", "o\n");
  file(b + "/etc/owner", "o\n");
  REQUIRE(::chown((b + "/etc/owner").c_str(), 1000, 100) == 0);
  file(a + "/etc/size", "short\n");
  file(b + "/etc/size", "longer text\n");
  file(a + "/etc/content", "aaaa\n");
  file(b + "/etc/content", "bbbb\n");
  symlink("target1", a + "/etc/link");
  symlink("target2", b + "/etc/link");
  // device numbers: a character and a block device
  node(a + "/dev/char", S_IFCHR, 1, 3);
  node(b + "/dev/char", S_IFCHR, 1, 5);
  node(a + "/dev/block", S_IFBLK, 7, 0);
  node(b + "/dev/block", S_IFBLK, 7, 1);
  ::chmod((a + "/dev").c_str(), 0755);
  ::chmod((b + "/dev").c_str(), 0755);
  // hard links: a and b share an inode in A, a and c in B
  std::filesystem::create_hard_link(a + "/usr/bin/a", a + "/usr/bin/b");
  file(b + "/usr/bin/b", "tool\n", 0755);
  std::filesystem::remove(b + "/usr/bin/c");
  std::filesystem::create_hard_link(b + "/usr/bin/a", b + "/usr/bin/c");
  // xattrs: one changed, one removed, one added (mkfs.ext4 -d copies them)
  file(a + "/etc/xattrs", "x\n");
  file(b + "/etc/xattrs", "x\n");
  REQUIRE(set_xattr(a + "/etc/xattrs", "user.changed", "1"));
  REQUIRE(set_xattr(b + "/etc/xattrs", "user.changed", "2"));
  REQUIRE(set_xattr(a + "/etc/xattrs", "user.removed", "r"));
  REQUIRE(set_xattr(b + "/etc/xattrs", "user.added", "a"));
}

void make_image(const std::string& root, const std::string& image) {
  auto r = run("mkfs.ext4 -q -F -b 4096 -d " + shell_quote(root) + " " + shell_quote(image) +
               " 8M");
  REQUIRE(r.status == 0);
}

// The golden file; with IMGROOT_UPDATE_GOLDEN=1 in the environment, 'actual'
// is written there first (review the change before committing it).
std::string golden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(IMGROOT_FIXTURES) + "/diff/" + name;
  if (const char* update = std::getenv("IMGROOT_UPDATE_GOLDEN"); update && *update == '1')
    write_text(path, actual);
  return read_text(path);
}

struct Images {
  TempDir tmp;
  std::string a = tmp / "a.img", b = tmp / "b.img";
  Images() {
    plant(tmp / "a", tmp / "b");
    make_image(tmp / "a", a);
    make_image(tmp / "b", b);
  }
};

}  // namespace

TEST_CASE("diff reports exactly the planted differences of two ext4 images", "[root][diff]") {
  if (!can_mount_images()) return;
  Images img;
  const std::string before_a = sha256(img.a), before_b = sha256(img.b);
  auto text = run(std::string(IMGROOT_BINARY) + " diff " + shell_quote(img.a) + " " +
                  shell_quote(img.b));
  CHECK(text.status == 0);
  CHECK(text.output == golden("every-kind.txt", text.output));
  auto json = run(std::string(IMGROOT_BINARY) + " diff --json " + shell_quote(img.a) + " " +
                  shell_quote(img.b));
  CHECK(json.status == 0);
  CHECK(json.output == golden("every-kind.json", json.output));
  CHECK(sha256(img.a) == before_a);
  CHECK(sha256(img.b) == before_b);
  CHECK(loops_of(img.a) == "");
  CHECK(loops_of(img.b) == "");
}

TEST_CASE("an image compared with itself has no differences", "[root][diff]") {
  if (!can_mount_images()) return;
  Images img;
  auto r = run(std::string(IMGROOT_BINARY) + " diff " + shell_quote(img.a) + " " +
               shell_quote(img.a));
  CHECK(r.status == 0);
  CHECK(r.output == "0 added, 0 removed, 0 changed\n");
}

TEST_CASE("an image and the directory it was made from have no differences", "[root][diff]") {
  if (!can_mount_images()) return;
  Images img;
  // mkfs.ext4 adds lost+found; the source root's own attributes carry over.
  auto r = run(std::string(IMGROOT_BINARY) + " diff --exclude /lost+found " +
               shell_quote(img.tmp / "b") + " " + shell_quote(img.b));
  CHECK(r.status == 0);
  CHECK(r.output == "0 added, 0 removed, 0 changed\n");
}

TEST_CASE("a file that is not an image is refused in one line", "[root][diff]") {
  if (!can_mount_images()) return;
  TempDir tmp;
  write_text(tmp / "not-an-image", "hello");
  auto r = run(std::string(IMGROOT_BINARY) + " diff " + shell_quote(tmp / "not-an-image") + " " +
               shell_quote(tmp.path()));
  CHECK(r.status == 1);
  CHECK(r.output == "imgroot: diff '" + (tmp / "not-an-image") + "' '" + tmp.path() + "': '" +
                        (tmp / "not-an-image") + "' has no filesystem that libblkid recognises\n");
}

TEST_CASE("diff refuses an image of a filesystem type imgroot does not boot, before mounting it",
          "[root][diff]") {
  if (!can_mount_images()) return;
  TempDir tmp;
  check_refuses_foreign_images(
      tmp,
      [&](const std::string& image) {
        return "diff " + shell_quote(image) + " " + shell_quote(tmp.path());
      },
      [&](const std::string& image, const std::string& type) {
        return "imgroot: diff '" + image + "' '" + tmp.path() + "': " +
               foreign_refusal(image, type) + "\n";
      });
}

TEST_CASE("a symlink whose inode claims a size of 1 TiB is read as what it holds", "[root][diff]") {
  if (!can_mount_images()) return;
  TempDir tmp;
  const std::string root = tmp / "root", image = tmp / "crafted.img";
  dir(root);
  symlink(std::string(100, 'x'), root + "/link");  // longer than 60: kept in a block
  // With large_dir, ext4 takes the high 32 bits of a symlink's size too.
  REQUIRE(run("mkfs.ext4 -q -F -b 4096 -O large_dir -d " + shell_quote(root) + " " +
              shell_quote(image) + " 8M")
              .status == 0);
  REQUIRE(run("debugfs -w -R 'sif /link size_hi 256' " + shell_quote(image)).status == 0);
  auto r = run(std::string(IMGROOT_BINARY) + " diff --exclude /lost+found " + shell_quote(image) +
               " " + shell_quote(root));
  CHECK(r.status == 0);
  CHECK(r.output == "0 added, 0 removed, 0 changed\n");
}
