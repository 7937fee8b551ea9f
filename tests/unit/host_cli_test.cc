// imgroot host capture | forget | show, through the built binary, on
// temporary directories standing for the root and the host partition.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "boot/host_identity.h"
#include "stage_support.h"
#include "system/fd.h"

using namespace imgroot::test;

namespace {

// A root with a host's files and an empty host partition.
struct Fixture {
  TempDir dir;
  Fixture() {
    std::filesystem::create_directories(dir / "hp");
    std::filesystem::create_directories(dir / "root/etc/ssh");
    std::filesystem::create_directories(dir / "root/etc/systemd/network");
    write_text(dir / "root/etc/hostname", "node-17\n");
    write_text(dir / "root/etc/ssh/ssh_host_ed25519_key", "private");
    ::chmod((dir / "root/etc/ssh/ssh_host_ed25519_key").c_str(), 0600);
    write_text(dir / "root/etc/ssh/ssh_host_ed25519_key.pub", "public");
    write_text(dir / "root/etc/systemd/network/10-uplink.network", "[Match]\n");
    std::filesystem::create_symlink("../run/systemd/resolve/stub-resolv.conf",
                                    dir / "root/etc/resolv.conf");
  }
  Ran host(const std::string& args) const {
    return run(std::string(IMGROOT_BINARY) + " host " + args + " --hostpart " +
               shell_quote(dir / "hp"));
  }
  Ran capture(const std::string& paths) const {
    return host("capture --root " + shell_quote(dir / "root") + " " + paths);
  }
  std::string set(const std::string& p) const { return dir / ("hp/imgroot/host/" + p); }
};

bool can_chown() {
  if (::geteuid() == 0) return true;
  WARN("skipped: changing owners needs root");
  return false;
}

}  // namespace

TEST_CASE("host capture copies files, directories and symlinks into a private imgroot/host",
          "[host]") {
  Fixture f;
  auto r = f.capture("/etc/hostname /etc/ssh/ /etc/resolv.conf");
  CHECK(r.status == 0);
  CHECK(r.output ==
        "captured /etc/hostname\ncaptured /etc/resolv.conf\ncaptured /etc/ssh\n"
        "4 files copied; the next boot applies them\n");
  CHECK((lstat_of(f.dir / "hp/imgroot/host").st_mode & 07777) == 0700);
  CHECK(read_text(f.set("etc/hostname")) == "node-17\n");
  CHECK(read_text(f.set("etc/ssh/ssh_host_ed25519_key")) == "private");
  CHECK((lstat_of(f.set("etc/ssh/ssh_host_ed25519_key")).st_mode & 07777) == 0600);
  CHECK(lstat_of(f.set("etc/ssh/ssh_host_ed25519_key")).st_mtim.tv_sec ==
        lstat_of(f.dir / "root/etc/ssh/ssh_host_ed25519_key").st_mtim.tv_sec);
  CHECK(std::filesystem::read_symlink(f.set("etc/resolv.conf")) ==
        "../run/systemd/resolve/stub-resolv.conf");
  CHECK_FALSE(exists(f.dir / "hp/imgroot/.host-capture.tmp"));
}

TEST_CASE("host capture replaces an older copy, and a directory as a whole", "[host]") {
  Fixture f;
  REQUIRE(f.capture("/etc/hostname /etc/ssh").status == 0);
  write_text(f.dir / "root/etc/hostname", "node-18\n");
  std::filesystem::remove(f.dir / "root/etc/ssh/ssh_host_ed25519_key.pub");
  REQUIRE(f.capture("/etc/hostname /etc/ssh").status == 0);
  CHECK(read_text(f.set("etc/hostname")) == "node-18\n");
  CHECK_FALSE(exists(f.set("etc/ssh/ssh_host_ed25519_key.pub")));
  CHECK(exists(f.set("etc/ssh/ssh_host_ed25519_key")));
}

TEST_CASE("host capture of a missing path captures nothing and names it", "[host]") {
  Fixture f;
  REQUIRE(f.capture("/etc/hostname").status == 0);
  write_text(f.dir / "root/etc/hostname", "node-18\n");
  auto r = f.capture("/etc/hostname /etc/machine-id");
  CHECK(r.status == 1);
  CHECK(r.output == "imgroot: host capture: '/etc/machine-id' in '" + (f.dir / "root") +
                        "' does not exist; check the path (nothing was captured)\n");
  CHECK(read_text(f.set("etc/hostname")) == "node-17\n");
}

TEST_CASE("host capture refuses FIFOs anywhere, relative paths, '..' and what boots make",
          "[host]") {
  Fixture f;
  REQUIRE(::mkfifo((f.dir / "root/etc/ssh/agent").c_str(), 0600) == 0);
  auto fifo = f.capture("/etc/hostname /etc/ssh");
  CHECK(fifo.status == 1);
  CHECK_THAT(fifo.output, Catch::Contains("'/etc/ssh/agent' in '" + (f.dir / "root") +
                                          "' is a FIFO; only files, symlinks and directories"));
  CHECK_FALSE(exists(f.set("etc/hostname")));

  auto relative = f.capture("etc/hostname");
  CHECK(relative.status == 1);
  CHECK_THAT(relative.output, Catch::Contains("is not an absolute path"));
  auto dots = f.capture("/etc/../etc/hostname");
  CHECK(dots.status == 1);
  CHECK_THAT(dots.output, Catch::Contains("contains '..'"));
  for (const char* p : {"/proc/cmdline", "/sys/x", "/dev/sda", "/run/x", "/hostpart/data"}) {
    auto r = f.capture(p);
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains(std::string("'") + p + "' is under /"));
  }
  auto none = f.host("capture");
  CHECK(none.status == 2);
}

TEST_CASE("host capture refuses a file over 4 MiB, anywhere, and says what to do instead",
          "[host]") {
  Fixture f;
  const std::string big = f.dir / "root/etc/ssh/cache.db";
  write_text(big, "");
  REQUIRE(::truncate(big.c_str(), (off_t{4} << 20) + 1) == 0);  // sparse
  auto r = f.capture("/etc/hostname /etc/ssh");
  CHECK(r.status == 1);
  CHECK_THAT(r.output, Catch::Contains("'/etc/ssh/cache.db' in '" + (f.dir / "root") +
                                       "' is larger than 4 MiB"));
  CHECK_THAT(r.output, Catch::Contains("/hostpart/data"));
  CHECK_FALSE(exists(f.set("etc/hostname")));

  REQUIRE(::truncate(big.c_str(), off_t{4} << 20) == 0);  // 4 MiB is fine
  CHECK(f.capture("/etc/hostname /etc/ssh").status == 0);
  CHECK(exists(f.set("etc/ssh/cache.db")));
}

TEST_CASE("host forget removes entries and the directories they leave empty", "[host]") {
  Fixture f;
  REQUIRE(f.capture("/etc/hostname /etc/systemd/network /etc/ssh").status == 0);
  auto missing = f.host("forget /etc/hostname /etc/machine-id");
  CHECK(missing.status == 1);
  CHECK_THAT(missing.output, Catch::Contains("'/etc/machine-id' is not in the host identity"));
  CHECK(exists(f.set("etc/hostname")));

  auto r = f.host("forget /etc/systemd/network /etc/ssh/ssh_host_ed25519_key");
  CHECK(r.status == 0);
  CHECK_FALSE(exists(f.set("etc/systemd")));
  CHECK_FALSE(exists(f.set("etc/ssh/ssh_host_ed25519_key")));
  CHECK(exists(f.set("etc/ssh/ssh_host_ed25519_key.pub")));
  REQUIRE(f.host("forget /etc/ssh /etc/hostname").status == 0);
  CHECK_FALSE(exists(f.set("etc")));
  CHECK(exists(f.dir / "hp/imgroot/host"));
}

TEST_CASE("host show lists the set and compares it with a root", "[host]") {
  Fixture f;
  auto empty = f.host("show");
  CHECK(empty.status == 0);
  CHECK_THAT(empty.output, Catch::Contains("is empty: this host boots with the image's files"));

  REQUIRE(f.capture("/etc/hostname /etc/ssh /etc/resolv.conf").status == 0);
  write_text(f.dir / "root/etc/hostname", "node-18\n");
  ::chmod((f.dir / "root/etc/ssh/ssh_host_ed25519_key").c_str(), 0644);
  std::filesystem::remove(f.dir / "root/etc/resolv.conf");
  auto text = f.host("show --root " + shell_quote(f.dir / "root"));
  CHECK(text.status == 0);
  CHECK_THAT(text.output, Catch::Contains("/etc/hostname "));
  CHECK_THAT(text.output, Catch::Contains("differs (content)\n"));
  CHECK_THAT(text.output, Catch::Contains("differs (mode)\n"));
  CHECK_THAT(text.output, Catch::Contains("-> ../run/systemd/resolve/stub-resolv.conf  missing here\n"));
  CHECK_THAT(text.output, Catch::Contains("4 files, copied into the root at every boot"));

  auto json = f.host("show --json --root " + shell_quote(f.dir / "root"));
  CHECK(json.status == 0);
  CHECK_THAT(json.output, Catch::Contains(R"("differences": [
        "content"
      ],)"));
  CHECK_THAT(json.output, Catch::Contains(R"("here": "missing",)"));
  CHECK_THAT(json.output, Catch::Contains(R"("files": 4,)"));
  CHECK_THAT(json.output, Catch::Contains(R"("mode": "0600",)"));
  // Another disk's partition, no --root: nothing to compare with.
  auto offline = f.host("show --json");
  CHECK_THAT(offline.output, Catch::Contains(R"("compared_with": null,)"));
  CHECK_THAT(offline.output, Catch::Contains(R"("here": null,)"));
}

TEST_CASE("captured files keep their owner, in the set and when applied", "[host][root]") {
  if (!can_chown()) return;
  Fixture f;
  REQUIRE(::lchown((f.dir / "root/etc/ssh/ssh_host_ed25519_key").c_str(), 1234, 5678) == 0);
  REQUIRE(::lchown((f.dir / "root/etc/resolv.conf").c_str(), 1234, 5678) == 0);
  REQUIRE(::lchown((f.dir / "root/etc/ssh").c_str(), 4321, 8765) == 0);
  REQUIRE(f.capture("/etc/ssh /etc/resolv.conf").status == 0);
  CHECK(lstat_of(f.set("etc/ssh/ssh_host_ed25519_key")).st_uid == 1234);
  CHECK(lstat_of(f.set("etc/ssh/ssh_host_ed25519_key")).st_gid == 5678);
  CHECK(lstat_of(f.set("etc/resolv.conf")).st_uid == 1234);
  CHECK(lstat_of(f.set("etc/ssh")).st_uid == 4321);

  std::filesystem::create_directories(f.dir / "image/etc");
  auto hostpart = imgroot::Fd::open_dir(f.dir / "hp");
  REQUIRE(hostpart);
  auto identity = imgroot::host_identity::open_identity_dir(hostpart->get());
  REQUIRE(identity);
  REQUIRE(*identity);
  auto image = imgroot::Fd::open_dir(f.dir / "image");
  REQUIRE(image);
  auto report = imgroot::host_identity::apply_host_identity((*identity)->get(), image->get(),
                                                            [](const std::string&) {});
  CHECK(report.applied == 3);
  CHECK(lstat_of(f.dir / "image/etc/ssh/ssh_host_ed25519_key").st_uid == 1234);
  CHECK(lstat_of(f.dir / "image/etc/ssh/ssh_host_ed25519_key").st_gid == 5678);
  CHECK((lstat_of(f.dir / "image/etc/ssh/ssh_host_ed25519_key").st_mode & 07777) == 0600);
  CHECK(lstat_of(f.dir / "image/etc/ssh").st_gid == 8765);
  CHECK(lstat_of(f.dir / "image/etc/resolv.conf").st_uid == 1234);
}

namespace {

// A capture root and an image built apart: the same accounts, other numbers.
void write_accounts(const std::string& root, const std::string& passwd, const std::string& group) {
  std::filesystem::create_directories(root + "/etc");
  write_text(root + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n" + passwd);
  write_text(root + "/etc/group", "root:x:0:\n" + group);
}

// The set of 'f' applied into a new root 'image' with those accounts and
// an /etc/ssl, warnings returned.
std::vector<std::string> apply_to(const Fixture& f, const std::string& image,
                                  const std::string& passwd, const std::string& group) {
  write_accounts(image, passwd, group);
  std::filesystem::create_directories(image + "/etc/ssl");
  auto hostpart = imgroot::Fd::open_dir(f.dir / "hp");
  REQUIRE(hostpart);
  auto identity = imgroot::host_identity::open_identity_dir(hostpart->get());
  REQUIRE(identity);
  REQUIRE(*identity);
  auto root = imgroot::Fd::open_dir(image);
  REQUIRE(root);
  std::vector<std::string> warnings;
  imgroot::host_identity::apply_host_identity(
      (*identity)->get(), root->get(), [&](const std::string& w) { warnings.push_back(w); });
  return warnings;
}

// /etc/ssl/private (root:ssl-cert 0710) with a key (root:ssl-cert 0640) and
// a postgres-owned file, in a root where ssl-cert is 108 and postgres 104.
void make_keys(const Fixture& f) {
  write_accounts(f.dir / "root", "postgres:x:104:104::/var/lib/postgresql:/bin/sh\n",
                 "ssl-cert:x:108:postgres\npostgres:x:104:\n");
  const std::string priv = f.dir / "root/etc/ssl/private";
  std::filesystem::create_directories(priv);
  write_text(priv + "/node.key", "secret");
  write_text(f.dir / "root/etc/pg.conf", "listen");
  REQUIRE(::chown(priv.c_str(), 0, 108) == 0);
  REQUIRE(::chmod(priv.c_str(), 0710) == 0);
  REQUIRE(::chown((priv + "/node.key").c_str(), 0, 108) == 0);
  REQUIRE(::chmod((priv + "/node.key").c_str(), 0640) == 0);
  REQUIRE(::chown((f.dir / "root/etc/pg.conf").c_str(), 104, 104) == 0);
}

// The Fixture with make_keys's files captured from 'paths', and a place for
// a new image to apply them to.
struct KeysCaptured : Fixture {
  const std::string image = dir / "image";
  explicit KeysCaptured(const std::string& paths) {
    make_keys(*this);
    REQUIRE(capture(paths).status == 0);
  }
};

}  // namespace

TEST_CASE("owners are applied by name: a group renumbered in the new image keeps its files",
          "[host][root]") {
  if (!can_chown()) return;
  KeysCaptured f("/etc/ssl/private /etc/pg.conf");
  const std::string& image = f.image;
  // The rebuilt image: 108 is docker now, ssl-cert 111, postgres 110.
  CHECK(apply_to(f, image, "postgres:x:110:110::/var/lib/postgresql:/bin/sh\n",
                 "docker:x:108:\nssl-cert:x:111:postgres\npostgres:x:110:\n")
            .empty());
  CHECK(lstat_of(image + "/etc/ssl/private/node.key").st_gid == 111);
  CHECK(lstat_of(image + "/etc/ssl/private/node.key").st_uid == 0);
  CHECK((lstat_of(image + "/etc/ssl/private/node.key").st_mode & 07777) == 0640);
  CHECK(lstat_of(image + "/etc/ssl/private").st_gid == 111);
  CHECK((lstat_of(image + "/etc/ssl/private").st_mode & 07777) == 0710);
  CHECK(lstat_of(image + "/etc/pg.conf").st_uid == 110);
  CHECK(lstat_of(image + "/etc/pg.conf").st_gid == 110);

  // host show compares by name: the applied files are the same as captured.
  auto shown = f.host("show --root " + shell_quote(image));
  CHECK(shown.status == 0);
  CHECK_THAT(shown.output, Catch::Contains("root:ssl-cert"));
  CHECK_THAT(shown.output, !Catch::Contains("differs"));
}

TEST_CASE("a name the new image lacks gives root:root and the owner's bits only, with a warning",
          "[host][root]") {
  if (!can_chown()) return;
  KeysCaptured f("/etc/ssl/private");
  const std::string& image = f.image;
  auto warnings = apply_to(f, image, "", "docker:x:108:\n");  // no ssl-cert
  CHECK(lstat_of(image + "/etc/ssl/private/node.key").st_gid == 0);
  CHECK((lstat_of(image + "/etc/ssl/private/node.key").st_mode & 07777) == 0600);
  CHECK((lstat_of(image + "/etc/ssl/private").st_mode & 07777) == 0700);
  REQUIRE(warnings.size() == 2);
  CHECK_THAT(warnings[1], Catch::Contains("'/etc/ssl/private/node.key': group 'ssl-cert' is not "
                                          "in its /etc/group; given root:root 0600 instead"));
}
