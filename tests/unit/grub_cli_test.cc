// The CLI side of GRUB: imgroot grub, and grubenv kept in step by stage,
// mark-good, mark-bad, revert and status (offline, with --hostpart and --esp).
#include <catch2/catch.hpp>

#include "base/layout.h"
#include "grub/env.h"
#include "grub/trial.h"
#include "stage_support.h"

using namespace imgroot;
using namespace imgroot::test;

namespace {

Ran imgroot_cli(const std::string& args) { return run(std::string(IMGROOT_BINARY) + " " + args); }

// A host partition folder with a current image, an EFI-BOOT folder, and
// an image to stage.
struct Offline {
  TempDir dir;
  std::string hp = dir / "hp", esp = dir / "esp", image = dir / "next.img";
  std::string opts = " --hostpart " + shell_quote(hp) + " --esp " + shell_quote(esp);
  Offline() {
    std::filesystem::create_directories(hp);
    std::filesystem::create_directories(esp + "/grub");
    write_text(hp + "/hn-root.img", "current");
    make_good_image(image, dir / "root");
  }
  grub::Trial trial() const {
    return grub::read_trial(grub::parse_env(read_text(esp + "/grub/grubenv")).value());
  }
  Ran stage(const std::string& extra = "") {
    return imgroot_cli("stage --no-inspect" + opts + extra + " " + shell_quote(image));
  }
  // What the next boot's rotation does with the staged image: it becomes
  // the current one, on trial.
  void boot_staged() const {
    using namespace host_files;
    std::filesystem::rename(hp + "/" + kCurrent, hp + "/" + kOld);
    std::filesystem::rename(hp + "/" + kNew, hp + "/" + kCurrent);
  }
};

}  // namespace

TEST_CASE("imgroot grub writes grub.cfg and an empty grubenv on EFI-BOOT", "[grub][cli]") {
  TempDir dir;
  auto r = imgroot_cli("grub --esp " + shell_quote(dir.path()) + " --timeout 2 --cmdline quiet");
  INFO(r.output);
  REQUIRE(r.status == 0);
  const std::string cfg = read_text(dir / "grub/grub.cfg");
  CHECK_THAT(cfg, Catch::Contains("set timeout=2"));
  CHECK_THAT(cfg, Catch::Contains("set imgroot_cmdline='quiet'"));
  CHECK(read_text(dir / "grub/grubenv").size() == 1024);
  CHECK(grub::parse_env(read_text(dir / "grub/grubenv")).value().vars().empty());
  auto again = imgroot_cli("grub --esp " + shell_quote(dir.path()));
  CHECK(again.output == "wrote " + dir.path() + "/grub/grub.cfg\n");  // grubenv is kept
}

TEST_CASE("imgroot grub reads its settings file and the command line overrides it", "[grub][cli]") {
  TempDir dir;
  write_text(dir / "grub.conf", "timeout = 9\ncmdline = console=ttyS0\n");
  auto r = imgroot_cli("grub --stdout --config " + shell_quote(dir / "grub.conf") + " --timeout 1");
  REQUIRE(r.status == 0);
  CHECK_THAT(r.output, Catch::Contains("set timeout=1\n"));
  CHECK_THAT(r.output, Catch::Contains("set imgroot_cmdline='console=ttyS0'"));
  write_text(dir / "bad.conf", "tiemout = 9\n");
  auto bad = imgroot_cli("grub --stdout --config " + shell_quote(dir / "bad.conf"));
  CHECK(bad.status == 1);
  CHECK_THAT(bad.output, Catch::Contains("line 1: unknown setting 'tiemout'"));
  auto missing = imgroot_cli("grub --stdout --config " + shell_quote(dir / "none.conf"));
  CHECK(missing.status == 1);
}

TEST_CASE("imgroot grub --output writes that file atomically and nothing else", "[grub][cli]") {
  TempDir dir;
  auto r = imgroot_cli("grub --output " + shell_quote(dir / "x.cfg"));
  REQUIRE(r.status == 0);
  CHECK_THAT(read_text(dir / "x.cfg"), Catch::Contains("menuentry"));
  CHECK_FALSE(exists(dir / "grubenv"));
  CHECK(imgroot_cli("grub --stdout --output " + shell_quote(dir / "x.cfg")).status == 2);
}

TEST_CASE("stage puts the staged image on trial and status shows the tries left", "[grub][cli]") {
  Offline o;
  auto r = o.stage(" --tries 2");
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.output, Catch::Contains("on trial: GRUB boots it at most 2 times"));
  CHECK(o.trial().phase == grub::Phase::kCounting);
  CHECK(o.trial().tries_left == 2);
  auto status = imgroot_cli("status" + o.opts);
  CHECK_THAT(status.output, Catch::Contains("trial:      hn-root-new.img: on trial, 2 boots left"));
  CHECK(o.stage().status == 0);
  CHECK(o.trial().tries_left == grub::kDefaultTries);
  CHECK(o.stage(" --tries 0").status == 0);
  CHECK(o.trial().phase == grub::Phase::kNone);
}

TEST_CASE("stage refuses --tries out of range, and a wrong --esp before copying", "[grub][cli]") {
  Offline o;
  CHECK(o.stage(" --tries 10").status == 2);
  auto r = imgroot_cli("stage --no-inspect --hostpart " + shell_quote(o.hp) + " --esp " +
                       shell_quote(o.dir / "nowhere") + " " + shell_quote(o.image));
  CHECK(r.status == 1);
  CHECK_THAT(r.output, Catch::Contains("EFI-BOOT partition"));
  CHECK_FALSE(exists(o.hp + "/hn-root-new.img"));
}

TEST_CASE("mark-good ends the trial of the running image, not of a staged one", "[grub][cli]") {
  Offline o;
  REQUIRE(o.stage().status == 0);
  auto staged = imgroot_cli("mark-good" + o.opts);
  REQUIRE(staged.status == 0);
  CHECK(o.trial().phase == grub::Phase::kCounting);  // the trial is the staged image's
  o.boot_staged();
  auto good = imgroot_cli("mark-good" + o.opts);
  INFO(good.output);
  REQUIRE(good.status == 0);
  CHECK(o.trial().phase == grub::Phase::kNone);
  CHECK_THAT(imgroot_cli("status" + o.opts).output, Catch::Contains("trial:      none"));
}

TEST_CASE("mark-bad during a trial uses up its tries", "[grub][cli]") {
  Offline o;
  REQUIRE(o.stage().status == 0);
  o.boot_staged();
  auto bad = imgroot_cli("mark-bad" + o.opts);
  REQUIRE(bad.status == 0);
  CHECK_THAT(bad.output, Catch::Contains("the next boot goes back"));
  CHECK(o.trial().tries_left == 0);
}

TEST_CASE("revert ends the trial of the image it goes back from", "[grub][cli]") {
  Offline o;
  REQUIRE(o.stage().status == 0);
  o.boot_staged();
  auto r = imgroot_cli("revert" + o.opts);
  INFO(r.output);
  // Checkpointing needs root; the flag and grubenv are written either way.
  CHECK(exists(o.hp + "/system-revert"));
  if (r.status == 0) CHECK(o.trial().phase == grub::Phase::kNone);
}

TEST_CASE("without an EFI-BOOT partition, verbs say the trial is unchanged", "[grub][cli]") {
  Offline o;
  std::filesystem::remove_all(o.esp);
  // The default /boot/loader is not there on a build machine.
  if (exists("/boot/loader/grub")) {
    WARN("skipped: this machine has /boot/loader/grub");
    return;
  }
  auto r = imgroot_cli("mark-good --hostpart " + shell_quote(o.hp));
  CHECK(r.status == 0);
  CHECK_THAT(r.output, Catch::Contains("no EFI-BOOT partition at /boot/loader"));
}
