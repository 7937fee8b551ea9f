#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>

#include "stage_support.h"
#include "state/assessment.h"
#include "state/status.h"
#include "system/fd.h"

using namespace imgroot;
using namespace imgroot::state;
using namespace imgroot::test;

namespace {

const std::string kFixtures = IMGROOT_FIXTURES "/status/";
constexpr std::int64_t kMtime = 1767323045;  // 2026-01-02T03:04:05Z

// A host partition as a running node has it after upgrading: the current
// image staged and marked good, the old one staged and written since, a
// broken one nobody recorded; / is /dev/loop0, backed by 'backing_file'.
struct Fixture {
  TempDir dir;
  Hostpart hostpart;
  SystemPaths paths;

  explicit Fixture(const std::string& backing_file) {
    std::filesystem::create_directories(dir / "hp");
    std::filesystem::create_directories(dir / "sys/loop0/loop");
    write_text(dir / "hp/hn-root.img", std::string(4096, 'c'));
    write_text(dir / "hp/hn-root-old.img", std::string(8192, 'o'));
    write_text(dir / "hp/hn-root-broken.img", std::string(100, 'b'));
    for (const char* name : {"hn-root.img", "hn-root-old.img", "hn-root-broken.img"}) {
      struct timespec times[2] = {{kMtime, 0}, {kMtime, 0}};
      REQUIRE(::utimensat(AT_FDCWD, (dir / ("hp/" + std::string(name))).c_str(), times, 0) == 0);
    }
    std::string backing = backing_file;
    if (backing.starts_with("@HOSTPART@")) backing = dir / "hp" + backing.substr(10);
    write_text(dir / "sys/loop0/loop/backing_file", backing + "\n");

    auto fd = Fd::open_dir(dir / "hp");
    REQUIRE(fd);
    hostpart = Hostpart{dir / "hp", std::move(*fd)};
    paths.mountinfo = kFixtures + "mountinfo";
    paths.cmdline = kFixtures + "cmdline";
    paths.sys_block = dir / "sys";
    paths.default_hostpart = dir / "no-hostpart";  // not this machine's /hostpart

    StateFile state;
    state.images.push_back(record("hn-root.img", "1111111111111111111111111111111111111111111111111111111111111111",
                                  "/srv/images/node-2026.01.img", Assessment::kGood));
    ImageRecord old = record("hn-root-old.img", "2222222222222222222222222222222222222222222222222222222222222222",
                             "/srv/images/node-2025.12.img", Assessment::kGood);
    old.mtime_ns -= 1;  // written after staging: booted read-write
    state.images.push_back(old);
    REQUIRE(save_state(hostpart.dir.get(), state));
  }

  ImageRecord record(const std::string& name, const std::string& sha, const std::string& source,
                     Assessment a) {
    ImageRecord r = record_for(stat_of(dir / ("hp/" + name)));
    r.sha256 = sha;
    r.source = source;
    r.staged_at = "2026-01-02T03:00:00Z";
    r.assessment = a;
    r.assessed_at = a == Assessment::kNone ? "" : "2026-01-02T03:10:00Z";
    return r;
  }

  // read_status, which must succeed.
  Result<HostStatus> status() const {
    auto status = read_status(hostpart, paths);
    REQUIRE(status);
    return status;
  }

  // The status says whether the booted image is on this host partition,
  // and reads as the golden files <golden>.json and <golden>.txt.
  void check_status(bool from_this_hostpart, const std::string& golden) const {
    auto s = status();
    CHECK(s->booted.from_this_hostpart == from_this_hostpart);
    CHECK(matches(status_to_json(*s), golden + ".json"));
    CHECK(matches(status_to_text(*s), golden + ".txt"));
  }

  // Compare with a golden file, where @HOSTPART@ stands for the temporary
  // host partition's path. A mismatch leaves the actual output beside the
  // test binary as <golden>.actual, ready to review and copy over.
  bool matches(const std::string& actual, const std::string& golden) const {
    std::string generic = actual;
    const std::string hp = dir / "hp";
    for (size_t at; (at = generic.find(hp)) != std::string::npos;)
      generic.replace(at, hp.size(), "@HOSTPART@");
    if (exists(kFixtures + golden) && generic == read_text(kFixtures + golden)) return true;
    write_text(golden + ".actual", generic);
    return false;
  }
};

}  // namespace

TEST_CASE("status on the running node names the booted image and how it is known", "[status]") {
  Fixture f("@HOSTPART@/hn-root.img");
  f.check_status(/*from_this_hostpart=*/true, "online");
}

TEST_CASE("status offline says nothing booted from the partition", "[status]") {
  Fixture f("/elsewhere/hn-root.img");
  write_text(f.dir / "hp/system-revert", "");
  f.check_status(/*from_this_hostpart=*/false, "offline");
}

TEST_CASE("the next boot is the one rotation chooses", "[status]") {
  Fixture f("/elsewhere/hn-root.img");
  write_text(f.dir / "hp/hn-root-new.img", "new");
  auto status = f.status();
  CHECK(status->staged);
  CHECK(status->next_boot_image == "hn-root-new.img");
  CHECK(status->next_boot_action == rotation::Action::kUpgrade);
}

TEST_CASE("mark-bad records the verdict for the booted image", "[status]") {
  Fixture f("@HOSTPART@/hn-root-old.img");
  auto marked = mark_image(f.hostpart, f.paths, Assessment::kBad);
  REQUIRE(marked);
  CHECK(*marked == "hn-root-old.img");
  auto status = f.status();
  CHECK(status->assessed_image == "hn-root-old.img");
  CHECK(status->assessment == Assessment::kBad);
}

TEST_CASE("offline, mark-good records the verdict for hn-root.img, recorded or not", "[status]") {
  Fixture f("/elsewhere/hn-root.img");
  REQUIRE(::unlink((f.dir / "hp/imgroot/state.json").c_str()) == 0);
  auto marked = mark_image(f.hostpart, f.paths, Assessment::kGood);
  REQUIRE(marked);
  CHECK(*marked == "hn-root.img");
  auto status = f.status();
  CHECK(status->assessment == Assessment::kGood);
  CHECK_FALSE(status->images[0].record->assessed_at.empty());
}

TEST_CASE("a reflinked image shows as staged, unhashed, and whether it was written since",
          "[status]") {
  Fixture f("/elsewhere/hn-root.img");
  write_text(f.dir / "hp/hn-root-new.img", "new");
  struct timespec staged[2] = {{kMtime, 0}, {kMtime, 0}};
  REQUIRE(::utimensat(AT_FDCWD, (f.dir / "hp/hn-root-new.img").c_str(), staged, 0) == 0);
  auto state = load_state(f.hostpart.dir.get());
  REQUIRE(state);
  ImageRecord r = f.record("hn-root-new.img", "", "/hostpart/images/next.img", Assessment::kNone);
  r.reflinked = true;
  state->images.push_back(r);
  REQUIRE(save_state(f.hostpart.dir.get(), *state));

  auto status = f.status();
  const std::string json = status_to_json(*status);
  CHECK_THAT(json, Catch::Contains(R"("assessment": "unassessed",
      "modified_since_staged": false,
      "mtime": "2026-01-02T03:04:05Z",
      "name": "hn-root-new.img",
      "present": true,
      "reflinked": true,
      "release": null,
      "role": "staged",
      "sha256": null,)"));
  CHECK_THAT(status_to_text(*status),
             Catch::Contains("sha256 not computed (a reflink; 'imgroot stage --hash' computes it)\n"
                             "                      staged 2026-01-02T03:00:00Z from "
                             "/hostpart/images/next.img as a reflink\n"));

  write_text(f.dir / "hp/hn-root-new.img", "NEW");  // same size, written since
  struct timespec later[2] = {{kMtime + 60, 0}, {kMtime + 60, 0}};
  REQUIRE(::utimensat(AT_FDCWD, (f.dir / "hp/hn-root-new.img").c_str(), later, 0) == 0);
  status = f.status();
  CHECK(status->images[1].modified_since_staged);
  CHECK_THAT(status_to_text(*status), Catch::Contains("computes it); written since staged"));
}

TEST_CASE("status shows GRUB's boot trial: the image on trial and its tries left", "[status]") {
  Fixture f("/elsewhere/hn-root.img");
  write_text(f.dir / "hp/hn-root-new.img", "new");
  auto status = f.status();
  CHECK_THAT(status_to_json(*status), Catch::Contains("\"trial\": null"));
  grub::Env env;
  REQUIRE(grub::start_trial(env, 2));
  status->trial = grub::read_trial(env);
  CHECK_THAT(status_to_text(*status),
             Catch::Contains("trial:      hn-root-new.img: on trial, 2 boots left"));
  CHECK_THAT(status_to_json(*status), Catch::Contains("\"tries_left\": 2"));
  CHECK_THAT(status_to_json(*status), Catch::Contains("\"image\": \"hn-root-new.img\""));
  status->trial = grub::Trial{};
  CHECK_THAT(status_to_text(*status), Catch::Contains("trial:      none"));
  CHECK_THAT(status_to_json(*status), Catch::Contains("\"phase\": \"none\""));
}

TEST_CASE("status counts the host identity files; none means the image's defaults", "[status]") {
  Fixture f("@HOSTPART@/hn-root.img");
  auto status = f.status();
  CHECK(status->host_identity_files == 0);
  CHECK_THAT(status_to_text(*status),
             Catch::Contains("host:       the image's defaults (nothing in imgroot/host)\n"));
  std::filesystem::create_directories(f.dir / "hp/imgroot/host/etc/ssh");
  write_text(f.dir / "hp/imgroot/host/etc/hostname", "node-17\n");
  write_text(f.dir / "hp/imgroot/host/etc/ssh/ssh_host_ed25519_key", "private");
  status = f.status();
  CHECK(status->host_identity_files == 2);
  CHECK_THAT(status_to_json(*status), Catch::Contains(R"("host_identity": {
    "files": 2
  },)"));
  CHECK_THAT(status_to_text(*status), Catch::Contains("host:       2 files in imgroot/host"));
}

TEST_CASE("status shows the running overlay from the command line and the mount table",
          "[status]") {
  Fixture f("/elsewhere/hn-root.img");
  // Booted with imgroot.overlay=tmpfs: / is an overlay, not the loop device,
  // and the partition is known by being the running system's /hostpart.
  f.paths.default_hostpart = f.dir / "hp";
  f.paths.cmdline = f.dir / "cmdline";
  f.paths.mountinfo = f.dir / "mountinfo";
  write_text(f.paths.cmdline, "imgroot.image=hn-root.img imgroot.overlay=tmpfs quiet\n");
  write_text(f.paths.mountinfo,
             "22 1 0:30 / / rw,relatime shared:1 - overlay overlay rw,lowerdir=/run/imgroot/lower\n"
             "30 22 254:2 / /hostpart rw,relatime shared:10 - ext4 /dev/vda2 rw\n");
  auto status = f.status();
  REQUIRE(status->overlay);
  CHECK(status->overlay->mode == Overlay::kTmpfs);
  CHECK(status->overlay->root_is_overlay == true);
  CHECK_THAT(status_to_json(*status), Catch::Contains(R"("overlay": {
    "mode": "tmpfs",
    "root_is_overlay": true
  },)"));
  CHECK_THAT(status_to_text(*status),
             Catch::Contains("overlay:    tmpfs (imgroot.overlay=tmpfs; / is an overlay over the "
                             "read-only image)\n"));

  write_text(f.paths.cmdline, "imgroot.overlay=persistent\n");
  write_text(f.paths.mountinfo, "22 1 7:0 / / rw,relatime shared:1 - ext4 /dev/loop0 rw\n");
  status = f.status();
  CHECK_THAT(status_to_text(*status),
             Catch::Contains("overlay:    persistent (imgroot.overlay=persistent; but / is not an "
                             "overlay)\n"));

  f.paths.default_hostpart = f.dir / "no-hostpart";  // another disk's partition
  status = f.status();
  CHECK_FALSE(status->overlay);
  CHECK_THAT(status_to_json(*status), Catch::Contains("\"overlay\": null"));
  CHECK_THAT(status_to_text(*status), !Catch::Contains("overlay:"));
}

TEST_CASE("status finds the booted image under an overlay, in the overlay's lower layer",
          "[status]") {
  Fixture f("@HOSTPART@/hn-root.img");
  f.paths.cmdline = f.dir / "cmdline";
  f.paths.mountinfo = f.dir / "mountinfo";
  write_text(f.paths.cmdline, "imgroot.image=hn-root.img imgroot.overlay=persistent\n");
  write_text(f.paths.mountinfo,
             "22 1 0:30 / / rw,relatime shared:1 - overlay overlay rw,lowerdir=/run/imgroot/lower\n"
             "25 24 7:0 / /run/imgroot/lower ro,relatime shared:5 - ext4 /dev/loop0 ro\n"
             "30 22 254:2 / /hostpart rw,relatime shared:10 - ext4 /dev/vda2 rw\n");
  auto status = f.status();
  CHECK(status->booted.root_device == "/dev/loop0");
  CHECK(status->booted.image == "hn-root.img");
  CHECK(status->booted.from_this_hostpart);
  REQUIRE(status->overlay);
  CHECK(status->overlay->mode == Overlay::kPersistent);
  CHECK(status->overlay->root_is_overlay == true);
}
