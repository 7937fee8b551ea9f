// Applying the per-host identity into a root, as imgroot-init does at every
// boot: on temporary directories, without root.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "boot/host_identity.h"
#include "boot/host_owners.h"
#include "stage_support.h"
#include "system/accounts.h"
#include "system/fd.h"
#include "system/tree.h"

using namespace imgroot;
using namespace imgroot::test;

namespace {

constexpr time_t kCaptured = 1767323045;  // 2026-01-02T03:04:05Z

void set_mtime(const std::string& path, time_t when) {
  struct timespec times[2] = {{when, 0}, {when, 0}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

// A host partition with imgroot/host, a root to apply it to, and a place
// outside the root that must never be written.
struct Fixture {
  TempDir dir;
  std::vector<std::string> warnings;

  Fixture() {
    for (const char* d : {"hp/imgroot/host/etc", "root/etc", "outside"})
      std::filesystem::create_directories(dir / d);
  }
  std::string host(const std::string& p) const { return dir / ("hp/imgroot/host/" + p); }
  std::string root(const std::string& p) const { return dir / ("root/" + p); }

  host_identity::ApplyReport apply() {
    auto hostpart = Fd::open_dir(dir / "hp");
    REQUIRE(hostpart);
    auto identity = host_identity::open_identity_dir(hostpart->get());
    REQUIRE(identity);
    auto root_fd = Fd::open_dir(dir / "root");
    REQUIRE(root_fd);
    return host_identity::apply_host_identity(*identity ? (*identity)->get() : -1, root_fd->get(),
                                              [&](const std::string& w) { warnings.push_back(w); });
  }
};

}  // namespace

TEST_CASE("apply copies files, symlinks and directories with their mode and mtime",
          "[host_identity]") {
  Fixture f;
  write_text(f.host("etc/hostname"), "node-17\n");
  REQUIRE(::chmod(f.host("etc/hostname").c_str(), 0640) == 0);
  set_mtime(f.host("etc/hostname"), kCaptured);
  std::filesystem::create_directories(f.host("etc/ssh"));
  REQUIRE(::chmod(f.host("etc/ssh").c_str(), 0711) == 0);
  write_text(f.host("etc/ssh/ssh_host_ed25519_key"), "private");
  REQUIRE(::chmod(f.host("etc/ssh/ssh_host_ed25519_key").c_str(), 0600) == 0);
  std::filesystem::create_symlink("../run/systemd/resolve/stub-resolv.conf",
                                  f.host("etc/resolv.conf"));
  set_mtime(f.host("etc/resolv.conf"), kCaptured);

  auto report = f.apply();
  CHECK(report.applied == 3);
  CHECK(report.warnings == 0);
  CHECK(f.warnings.empty());
  CHECK(read_text(f.root("etc/hostname")) == "node-17\n");
  CHECK((lstat_of(f.root("etc/hostname")).st_mode & 07777) == 0640);
  CHECK(lstat_of(f.root("etc/hostname")).st_mtim.tv_sec == kCaptured);
  CHECK((lstat_of(f.root("etc/ssh")).st_mode & 07777) == 0711);
  CHECK((lstat_of(f.root("etc/ssh/ssh_host_ed25519_key")).st_mode & 07777) == 0600);
  CHECK(read_text(f.root("etc/ssh/ssh_host_ed25519_key")) == "private");
  CHECK(std::filesystem::read_symlink(f.root("etc/resolv.conf")) ==
        "../run/systemd/resolve/stub-resolv.conf");
  CHECK(lstat_of(f.root("etc/resolv.conf")).st_mtim.tv_sec == kCaptured);
}

TEST_CASE("apply replaces the image's file by rename, and leaves it alone once applied",
          "[host_identity]") {
  Fixture f;
  write_text(f.host("etc/hostname"), "node-17\n");
  set_mtime(f.host("etc/hostname"), kCaptured);
  write_text(f.root("etc/hostname"), "golden-image\n");
  REQUIRE(::chmod(f.root("etc/hostname").c_str(), 0600) == 0);
  const ino_t image_inode = lstat_of(f.root("etc/hostname")).st_ino;

  CHECK(f.apply().applied == 1);
  CHECK(read_text(f.root("etc/hostname")) == "node-17\n");
  CHECK((lstat_of(f.root("etc/hostname")).st_mode & 07777) == 0644);
  const ino_t applied_inode = lstat_of(f.root("etc/hostname")).st_ino;
  CHECK(applied_inode != image_inode);
  for (const auto& e : std::filesystem::directory_iterator(f.root("etc")))
    CHECK(e.path().filename() == "hostname");  // no temporary left

  auto again = f.apply();
  CHECK(again.applied == 0);
  CHECK(again.unchanged == 1);
  CHECK(lstat_of(f.root("etc/hostname")).st_ino == applied_inode);
}

TEST_CASE("apply never follows a symlink in the image out of the root", "[host_identity]") {
  Fixture f;
  write_text(f.dir / "outside/hostname", "not yours\n");
  // A file that is a symlink out of the root is replaced, not written through.
  write_text(f.host("etc/hostname"), "node-17\n");
  std::filesystem::create_symlink(f.dir / "outside/hostname", f.root("etc/hostname"));
  // A directory that is a symlink out of the root, absolute and relative.
  std::filesystem::create_directories(f.host("var/lib"));
  write_text(f.host("var/lib/id"), "17\n");
  std::filesystem::create_directories(f.root("var"));
  std::filesystem::create_symlink(f.dir / "outside", f.root("var/lib"));
  std::filesystem::create_directories(f.host("srv"));
  write_text(f.host("srv/id"), "17\n");
  std::filesystem::create_symlink("../../../../../../outside", f.root("srv"));

  auto report = f.apply();
  CHECK(read_text(f.dir / "outside/hostname") == "not yours\n");
  CHECK_FALSE(exists(f.dir / "outside/id"));
  CHECK(std::filesystem::is_regular_file(std::filesystem::symlink_status(f.root("etc/hostname"))));
  CHECK(read_text(f.root("etc/hostname")) == "node-17\n");
  CHECK(report.applied == 1);
  CHECK(report.warnings == 2);  // var/lib and srv: symlinks to what the root does not have
  REQUIRE(f.warnings.size() == 2);
  CHECK_THAT(f.warnings[0], Catch::StartsWith("host identity: not applied '/srv'"));
  CHECK_THAT(f.warnings[1], Catch::StartsWith("host identity: not applied '/var/lib'"));
}

TEST_CASE("apply follows a symlink that stays inside the root, as the image means it",
          "[host_identity]") {
  Fixture f;
  std::filesystem::create_directories(f.host("lib/systemd/network"));
  write_text(f.host("lib/systemd/network/10-uplink.link"), "[Match]\n");
  std::filesystem::create_directories(f.root("usr/lib/systemd/network"));
  std::filesystem::create_symlink("usr/lib", f.root("lib"));  // merged /usr

  auto report = f.apply();
  CHECK(report.warnings == 0);
  CHECK(read_text(f.root("usr/lib/systemd/network/10-uplink.link")) == "[Match]\n");
  CHECK(std::filesystem::is_symlink(f.root("lib")));
}

TEST_CASE("apply skips a FIFO with a warning and applies the rest", "[host_identity]") {
  Fixture f;
  REQUIRE(::mkfifo(f.host("etc/initctl").c_str(), 0600) == 0);
  write_text(f.host("etc/machine-id"), "0123456789abcdef0123456789abcdef\n");
  auto report = f.apply();
  CHECK(report.applied == 1);
  CHECK(report.warnings == 1);
  REQUIRE(f.warnings.size() == 1);
  CHECK(f.warnings[0] ==
        "host identity: skipped '/etc/initctl': it is a FIFO; only files, symlinks and "
        "directories are applied");
  CHECK_FALSE(exists(f.root("etc/initctl")));
  CHECK(exists(f.root("etc/machine-id")));
}

TEST_CASE("without imgroot/host nothing is applied and nothing is said", "[host_identity]") {
  Fixture f;
  std::filesystem::remove_all(f.dir / "hp/imgroot/host");
  write_text(f.root("etc/hostname"), "golden-image\n");
  auto report = f.apply();
  CHECK(report.applied == 0);
  CHECK(report.unchanged == 0);
  CHECK(report.warnings == 0);
  CHECK(read_text(f.root("etc/hostname")) == "golden-image\n");
}

TEST_CASE("count_files counts files and symlinks, not directories", "[host_identity]") {
  Fixture f;
  write_text(f.host("etc/hostname"), "n\n");
  std::filesystem::create_directories(f.host("etc/ssh"));
  std::filesystem::create_symlink("x", f.host("etc/ssh/link"));
  auto identity = Fd::open_dir(f.host(""));
  REQUIRE(identity);
  auto files = host_identity::count_files(identity->get());
  REQUIRE(files);
  CHECK(*files == 2);
}

namespace {

// compare_entry on dir/a and dir/b in a child whose address space is capped
// at what it uses now plus 'headroom': 0 same content, 1 different, 2 an
// error (memory included), 3 an exception.
int compare_in_capped_child(const std::string& dir, rlim_t headroom) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    try {
      long pages = 0;
      std::ifstream("/proc/self/statm") >> pages;
      const rlim_t used = static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE));
      const struct rlimit cap {used + headroom, used + headroom};
      if (::setrlimit(RLIMIT_AS, &cap) < 0) ::_exit(4);
      auto d = Fd::open_dir(dir);
      if (!d) ::_exit(2);
      struct stat a {};
      if (::fstatat(d->get(), "a", &a, AT_SYMLINK_NOFOLLOW) < 0) ::_exit(2);
      auto diff = compare_entry(d->get(), "a", a, d->get(), "b");
      ::_exit(!diff ? 2 : diff->content ? 1 : 0);
    } catch (...) {
      ::_exit(3);
    }
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

void make_file(const std::string& path, off_t size, const std::string& tail) {
  write_text(path, "");
  REQUIRE(::truncate(path.c_str(), size - static_cast<off_t>(tail.size())) == 0);
  std::ofstream(path, std::ios::binary | std::ios::app) << tail;
  REQUIRE(std::filesystem::file_size(path) == static_cast<uintmax_t>(size));
}

}  // namespace

TEST_CASE("comparing two large files of the same size takes a fixed amount of memory",
          "[host_identity]") {
  TempDir dir;
  constexpr off_t kSize = off_t{256} << 20;  // sparse: no disk space
  make_file(dir / "a", kSize, "x");
  make_file(dir / "b", kSize, "x");
  CHECK(compare_in_capped_child(dir.path(), rlim_t{64} << 20) == 0);
  make_file(dir / "b", kSize, "y");  // the last byte differs
  CHECK(compare_in_capped_child(dir.path(), rlim_t{64} << 20) == 1);
}

TEST_CASE("comparing files finds a difference in any piece, the last short one included",
          "[host_identity]") {
  TempDir dir;
  const off_t size = (off_t{1} << 20) + 7;
  for (off_t at : {off_t{0}, off_t{65535}, off_t{65536}, size - 1}) {
    make_file(dir / "a", size, "");
    make_file(dir / "b", size, "");
    auto f = std::fstream(dir / "b", std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(at);
    f.put('z');
    f.close();
    INFO("differs at " << at);
    CHECK(compare_in_capped_child(dir.path(), rlim_t{64} << 20) == 1);
  }
  make_file(dir / "b", size, "");
  CHECK(compare_in_capped_child(dir.path(), rlim_t{64} << 20) == 0);
}

TEST_CASE("owner names survive a round trip with any path, and bad lines are skipped",
          "[host_identity]") {
  host_owners::Owners owners;
  owners["etc/ssl/private/node.key"] = {0, 108, "root", "ssl-cert"};
  owners["etc/odd name\nwith\\escapes"] = {1234, 5678, "", ""};
  const std::string text = host_owners::format_owners(owners);
  CHECK(host_owners::parse_owners(text) == owners);
  auto parsed = host_owners::parse_owners("x 0 root root etc/a\n0 0 root\n\n0 4294967295 a b c\n" +
                                          text);
  CHECK(parsed == owners);
}

TEST_CASE("passwd and group lines give names and numbers, the first line for each winning",
          "[host_identity]") {
  std::map<std::string, unsigned> ids;
  std::map<unsigned, std::string> names;
  parse_account_lines("# comment\npostgres:x:104:104::/var/lib/postgresql:/bin/sh\n"
                      "+nis\nbroken:x:\nnegative:x:-1:0\npostgres:x:999:999\n"
                      "alias:x:104:104\nnobody:x:65534:65534",
                      ids, names);
  CHECK(ids == std::map<std::string, unsigned>{{"postgres", 104}, {"alias", 104}, {"nobody", 65534}});
  // As getpwuid would find them, line by line.
  CHECK(names == std::map<unsigned, std::string>{
                     {104, "postgres"}, {999, "postgres"}, {65534, "nobody"}});
}

TEST_CASE("a file replaced between its lstat and its copy is not copied with the old owner and mode",
          "[host_identity]") {
  TempDir dir;
  write_text(dir / "tool", "root's tool");
  REQUIRE(::chmod((dir / "tool").c_str(), 04755) == 0);
  const struct stat walked = lstat_of(dir / "tool");
  // Someone who can write the directory swaps in their own file.
  write_text(dir / "theirs", "someone else's bytes");
  REQUIRE(::rename((dir / "theirs").c_str(), (dir / "tool").c_str()) == 0);

  auto d = Fd::open_dir(dir.path());
  REQUIRE(d);
  auto copied = copy_entry(d->get(), "tool", walked, d->get(), "copy", Durability::kNone);
  REQUIRE_FALSE(copied);
  CHECK_THAT(copied.error().message, Catch::Contains("changed while"));
  CHECK_FALSE(exists(dir / "copy"));
}
