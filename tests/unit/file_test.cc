// Files relative to a directory fd (lib/system/file.h) on a temporary directory.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "system/fd.h"
#include "system/file.h"
#include "system/temp_dir.h"

using namespace imgroot;

namespace {

// A directory a user may name (imgroot grub --output, imgroot initramfs -o)
// and, beside it, a file that must stay as it is.
struct Dirs {
  TempDir tmp = TempDir::create("/tmp", "imgroot-file").value();
  std::string out = tmp.path() + "/out";
  std::string victim = tmp.path() + "/victim";
  Fd out_fd;

  Dirs() {
    REQUIRE(::mkdir(out.c_str(), 0755) == 0);
    out_fd = Fd::open_dir(out).value();
    REQUIRE(write_file_atomic_at(Fd::open_dir(tmp.path()).value().get(), "victim", "precious\n"));
  }
};

}  // namespace

TEST_CASE("an atomic write does not follow a symlink planted at the old temp name", "[file]") {
  Dirs dirs;
  // Before random temp names, ".grub.cfg.tmp" was opened with O_TRUNC.
  REQUIRE(::symlink(dirs.victim.c_str(), (dirs.out + "/.grub.cfg.tmp").c_str()) == 0);

  REQUIRE(write_file_atomic_at(dirs.out_fd.get(), "grub.cfg", "new\n"));

  CHECK(read_file(dirs.victim).value() == "precious\n");
  auto st = stat_at(dirs.out_fd.get(), "grub.cfg").value();
  REQUIRE(st);
  CHECK(S_ISREG(st->st_mode));
  CHECK(read_file_at(dirs.out_fd.get(), "grub.cfg").value() == "new\n");
}

TEST_CASE("an atomic write does not write through a hard link planted at the old temp name",
          "[file]") {
  Dirs dirs;
  REQUIRE(::link(dirs.victim.c_str(), (dirs.out + "/.grub.cfg.tmp").c_str()) == 0);

  REQUIRE(write_file_atomic_at(dirs.out_fd.get(), "grub.cfg", "new\n"));

  CHECK(read_file(dirs.victim).value() == "precious\n");
  CHECK(read_file_at(dirs.out_fd.get(), "grub.cfg").value() == "new\n");
}

TEST_CASE("an atomic write leaves no temp file and gives the file the mode asked for", "[file]") {
  Dirs dirs;
  REQUIRE(write_file_atomic_at(dirs.out_fd.get(), "grub.cfg", "one\n", 0600));
  REQUIRE(write_file_atomic_at(dirs.out_fd.get(), "grub.cfg", "two\n", 0600));

  CHECK(list_dir(dirs.out_fd.get()).value() == std::vector<std::string>{"grub.cfg"});
  CHECK(read_file_at(dirs.out_fd.get(), "grub.cfg").value() == "two\n");
  CHECK((stat_at(dirs.out_fd.get(), "grub.cfg").value()->st_mode & 07777) == 0600);
}

TEST_CASE("two names of one file are the same inode; a copy is not", "[file]") {
  Dirs dirs;
  const int dir = dirs.out_fd.get();
  REQUIRE(write_file_atomic_at(dir, "a", "x\n"));
  REQUIRE(link_at(dir, "a", "b"));
  REQUIRE(write_file_atomic_at(dir, "c", "x\n"));
  auto a = stat_at(dir, "a").value().value();
  auto b = stat_at(dir, "b").value().value();
  auto c = stat_at(dir, "c").value().value();
  CHECK(same_inode(a, b));
  CHECK_FALSE(same_inode(a, c));
  // The inode number alone is not the identity: another filesystem may reuse it.
  struct stat elsewhere = a;
  elsewhere.st_dev = a.st_dev + 1;
  CHECK_FALSE(same_inode(a, elsewhere));
}

TEST_CASE("a directory is made when missing and opened when it is there", "[file]") {
  Dirs dirs;
  const int dir = dirs.out_fd.get();
  auto made = open_or_make_dir_at(dir, "imgroot", 0700);
  REQUIRE(made);
  REQUIRE(write_file_atomic_at(made->get(), "inside", "1\n"));
  auto st = stat_at(dir, "imgroot").value().value();
  CHECK((st.st_mode & 07777) == 0700);
  auto again = open_or_make_dir_at(dir, "imgroot", 0755);
  REQUIRE(again);
  CHECK(read_file_at(again->get(), "inside").value() == "1\n");
  CHECK(make_dir_at(dir, "imgroot", 0755));
}

TEST_CASE("opening a directory to make refuses a file or a symlink in its place", "[file]") {
  Dirs dirs;
  const int dir = dirs.out_fd.get();
  REQUIRE(write_file_atomic_at(dir, "file", "x\n"));
  CHECK(open_or_make_dir_at(dir, "file", 0755).error().code == ENOTDIR);
  REQUIRE(::symlink(dirs.tmp.path().c_str(), (dirs.out + "/link").c_str()) == 0);
  CHECK_FALSE(open_or_make_dir_at(dir, "link", 0755));
  CHECK(make_dir_at(dir, "missing/below", 0755).error().code == ENOENT);
}

TEST_CASE("a durable removal removes the name, and a name already gone is success", "[file]") {
  Dirs dirs;
  const int dir = dirs.out_fd.get();
  REQUIRE(write_file_atomic_at(dir, "flag", ""));
  REQUIRE(remove_durably_at(dir, "flag"));
  CHECK_FALSE(exists_at(dir, "flag").value());
  CHECK(remove_durably_at(dir, "flag"));
}
