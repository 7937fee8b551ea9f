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
