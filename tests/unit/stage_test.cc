#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "base/layout.h"
#include "stage/stage.h"
#include "stage_support.h"
#include "state/state_file.h"
#include "system/fd.h"

using namespace imgroot;
using namespace imgroot::test;

namespace {

struct Host {
  TempDir dir;
  Fd fd;
  Host() {
    std::filesystem::create_directory(dir / "hp");
    auto opened = Fd::open_dir(dir / "hp");
    REQUIRE(opened);
    fd = std::move(*opened);
  }
  std::string hp(const std::string& name) const { return dir / ("hp/" + name); }
  bool untouched() const {
    return std::filesystem::is_empty(dir / "hp");
  }
};

stage::StageRequest request(const std::string& image, bool inspect = true) {
  stage::StageRequest r;
  r.image = image;
  r.inspect = inspect;
  return r;
}

std::string refusal(Host& host, const std::string& image) {
  auto staged = stage::stage_image(host.fd.get(), request(image), {});
  REQUIRE_FALSE(staged);
  return staged.error().message;
}

}  // namespace

TEST_CASE("staging refuses a FIFO without blocking on it", "[stage]") {
  Host host;
  REQUIRE(::mkfifo((host.dir / "fifo").c_str(), 0644) == 0);
  CHECK(refusal(host, host.dir / "fifo") ==
        "'" + (host.dir / "fifo") + "' is a FIFO, not an image file");
  CHECK(host.untouched());
}

TEST_CASE("staging refuses a directory", "[stage]") {
  Host host;
  CHECK(refusal(host, host.dir.path()).find("is a directory") != std::string::npos);
  CHECK(host.untouched());
}

TEST_CASE("staging refuses a symlink to a device", "[stage]") {
  Host host;
  std::filesystem::create_symlink("/dev/null", host.dir / "link.img");
  CHECK(refusal(host, host.dir / "link.img") ==
        "'" + (host.dir / "link.img") + "' is a character device, not an image file");
  CHECK(host.untouched());
}

TEST_CASE("staging refuses a file with no filesystem in it", "[stage]") {
  Host host;
  write_text(host.dir / "junk.img", std::string(1 << 20, 'x'));
  CHECK(refusal(host, host.dir / "junk.img") ==
        "'" + (host.dir / "junk.img") + "' has no filesystem that libblkid recognises");
  CHECK(host.untouched());
}

TEST_CASE("staging refuses a missing file with the reason", "[stage]") {
  Host host;
  CHECK(refusal(host, host.dir / "nope.img") ==
        "open '" + (host.dir / "nope.img") + "': No such file or directory");
}

TEST_CASE("a staged image is a verified copy recorded in the state", "[stage]") {
  Host host;
  make_good_image(host.dir / "a.img", host.dir / "root-a");
  auto staged = stage::stage_image(host.fd.get(), request(host.dir / "a.img", false), {});
  REQUIRE(staged);
  CHECK(staged->fs_type == "ext4");
  CHECK(read_text(host.hp("hn-root-new.img")) == read_text(host.dir / "a.img"));
  CHECK_FALSE(exists(host.hp(host_files::kPartial)));
  CHECK(run("sha256sum " + shell_quote(host.dir / "a.img")).output.starts_with(staged->copy.sha256));

  const state::ImageRecord r = recorded(host.fd.get(), host.hp("hn-root-new.img"));
  CHECK(r.sha256 == staged->copy.sha256);
  CHECK(r.source == host.dir / "a.img");
  CHECK_FALSE(r.staged_at.empty());
}

TEST_CASE("a staged image gets an overlay layer identity of its own, never its source's",
          "[stage]") {
  Host host;
  make_good_image(host.dir / "a.img", host.dir / "root-a");
  const std::string source_id = "layer-of-another-host";
  REQUIRE(::setxattr((host.dir / "a.img").c_str(), host_files::kLayerXattr, source_id.data(),
                     source_id.size(), 0) == 0);
  REQUIRE(stage::stage_image(host.fd.get(), request(host.dir / "a.img", false), {}));
  char id[128] = {};
  const ssize_t n = ::getxattr(host.hp(host_files::kNew).c_str(), host_files::kLayerXattr, id,
                               sizeof id);
  REQUIRE(n > 0);
  CHECK(std::string(id, static_cast<size_t>(n)) != source_id);
}

TEST_CASE("staging again replaces the staged image", "[stage]") {
  Host host;
  make_good_image(host.dir / "a.img", host.dir / "root-a");
  make_good_image(host.dir / "b.img", host.dir / "root-b", "12M");
  REQUIRE(stage::stage_image(host.fd.get(), request(host.dir / "a.img", false), {}));
  auto second = stage::stage_image(host.fd.get(), request(host.dir / "b.img", false), {});
  REQUIRE(second);
  CHECK(read_text(host.hp("hn-root-new.img")) == read_text(host.dir / "b.img"));
  auto state = state::load_state(host.fd.get());
  REQUIRE(state);
  CHECK(state->images.size() == 1);  // the record of the replaced copy is gone
}

TEST_CASE("staging refuses while a revert is pending unless told to cancel it", "[stage]") {
  Host host;
  make_good_image(host.dir / "a.img", host.dir / "root-a");
  write_text(host.hp("hn-root.img"), "current");
  write_text(host.hp("hn-root-old.img"), "old");
  write_text(host.hp("system-revert"), "");
  auto refused = stage::stage_image(host.fd.get(), request(host.dir / "a.img", false), {});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.starts_with("a revert is pending (system-revert)"));
  CHECK(refused.error().message.find("--cancel-revert") != std::string::npos);
  CHECK_FALSE(exists(host.hp("hn-root-new.img")));

  auto r = request(host.dir / "a.img", false);
  r.cancel_revert = true;
  auto staged = stage::stage_image(host.fd.get(), r, {});
  REQUIRE(staged);
  CHECK(staged->cancelled_revert);
  CHECK_FALSE(exists(host.hp("system-revert")));
  CHECK(exists(host.hp("hn-root-new.img")));
}

TEST_CASE("a partial copy left by a killed stage is removed, one in use is not", "[stage]") {
  Host host;
  write_text(host.hp(host_files::kPartial), "half a copy");
  auto removed = stage::remove_stale_partial(host.fd.get());
  REQUIRE(removed);
  CHECK(*removed);
  CHECK_FALSE(exists(host.hp(host_files::kPartial)));

  // A running stage holds the lock: neither status nor another stage touch it.
  write_text(host.hp(host_files::kPartial), "being copied");
  auto held = Fd::open(host.hp(host_files::kPartial), O_RDONLY);
  REQUIRE(held);
  REQUIRE(::flock(held->get(), LOCK_EX) == 0);
  auto kept = stage::remove_stale_partial(host.fd.get());
  REQUIRE(kept);
  CHECK_FALSE(*kept);
  CHECK(exists(host.hp(host_files::kPartial)));
  make_good_image(host.dir / "a.img", host.dir / "root-a");
  auto busy = stage::stage_image(host.fd.get(), request(host.dir / "a.img", false), {});
  REQUIRE_FALSE(busy);
  CHECK(busy.error().message.starts_with("another 'imgroot stage' is copying"));
}

TEST_CASE("the partial copy's name is not one any boot path loads", "[stage]") {
  std::string name = host_files::kPartial;
  CHECK_FALSE(name.starts_with("hn-root"));
  CHECK_FALSE(name.ends_with(".img"));
}

TEST_CASE("an erofs image is refused, before inspection: GRUB cannot load its kernel", "[stage]") {
  Host host;
  if (!make_good_erofs_image(host.dir / "a.img", host.dir / "root")) return;
  CHECK(refusal(host, host.dir / "a.img") ==
        "'" + (host.dir / "a.img") +
            "' holds an erofs filesystem, which GRUB 2.06 (Debian 12) cannot read: GRUB would not "
            "find the image's /boot/kernel and the node would not boot; make the image squashfs "
            "or ext4, or pass --boots-without-grub if the node boots without GRUB (PXE, a direct "
            "kernel boot)");
  CHECK(host.untouched());
}

TEST_CASE("an erofs image is staged for a node that boots without GRUB", "[stage]") {
  Host host;
  if (!make_good_erofs_image(host.dir / "a.img", host.dir / "root")) return;
  auto r = request(host.dir / "a.img", false);
  r.boots_without_grub = true;
  auto staged = stage::stage_image(host.fd.get(), r, {});
  REQUIRE(staged);
  CHECK(staged->fs_type == "erofs");
  CHECK(read_text(host.hp("hn-root-new.img")) == read_text(host.dir / "a.img"));
}
