#include <catch2/catch.hpp>

#include "boot/cmdline.h"

using namespace imgroot;

TEST_CASE("an empty command line gives the documented defaults", "[cmdline]") {
  auto p = parse_cmdline("");
  CHECK(p.warnings.empty());
  CHECK(p.config.hostpart.to_string() == "LABEL=hostpart");
  CHECK_FALSE(p.config.image);
  CHECK_FALSE(p.config.revert);
  CHECK(p.config.overlay == Overlay::kNone);
  CHECK(p.config.timeout_seconds == 30);
  CHECK(p.config.init == "/sbin/init");
  CHECK_FALSE(p.config.read_only);
}

TEST_CASE("the words of a GRUB command line are all understood", "[cmdline]") {
  auto p = parse_cmdline(
      "BOOT_IMAGE=(loop)/boot/kernel console=ttyS0 imgroot.hostpart=PARTUUID=ab-02 "
      "imgroot.image=hn-root-new.img imgroot.revert=1 imgroot.overlay=tmpfs imgroot.timeout=5 "
      "init=/lib/systemd/systemd rootflags=noatime,commit=5 ro panic=10\n");
  CHECK(p.warnings.empty());
  CHECK(p.config.hostpart.to_string() == "PARTUUID=ab-02");
  CHECK(p.config.image == "hn-root-new.img");
  CHECK(p.config.revert);
  CHECK(p.config.overlay == Overlay::kTmpfs);
  CHECK(p.config.timeout_seconds == 5);
  CHECK(p.config.init == "/lib/systemd/systemd");
  CHECK(p.config.rootflags == "noatime,commit=5");
  CHECK(p.config.read_only);
}

TEST_CASE("quotes group a value with spaces, as the kernel does", "[cmdline]") {
  auto words = split_cmdline("a \"imgroot.hostpart=LABEL=host part\" b");
  REQUIRE(words.size() == 3);
  CHECK(words[1] == "imgroot.hostpart=LABEL=host part");
  CHECK(parse_cmdline("imgroot.hostpart=\"LABEL=my host\"").config.hostpart.value == "my host");
}

TEST_CASE("the last of ro and rw wins, and a bare imgroot.revert means on", "[cmdline]") {
  CHECK_FALSE(parse_cmdline("ro rw").config.read_only);
  CHECK(parse_cmdline("rw ro").config.read_only);
  CHECK(parse_cmdline("imgroot.revert").config.revert);
  CHECK_FALSE(parse_cmdline("imgroot.revert=1 imgroot.revert=0").config.revert);
}

TEST_CASE("malformed imgroot values are reported and defaulted", "[cmdline]") {
  auto p = parse_cmdline(
      "imgroot.hostpart=sda2 imgroot.timeout=soon imgroot.timeout=-1 imgroot.overlay=zram "
      "imgroot.revert=maybe imgroot.image=other.img init=sbin/init");
  CHECK(p.config.hostpart.to_string() == "LABEL=hostpart");
  CHECK(p.config.timeout_seconds == 30);
  CHECK(p.config.overlay == Overlay::kNone);
  CHECK_FALSE(p.config.revert);
  CHECK_FALSE(p.config.image);
  CHECK(p.config.init == "/sbin/init");
  REQUIRE(p.warnings.size() == 7);
  CHECK_THAT(p.warnings[0], Catch::StartsWith("imgroot.hostpart=sda2") && Catch::Contains("using LABEL=hostpart"));
  CHECK_THAT(p.warnings[1], Catch::Contains("using 30"));
}

TEST_CASE("the genkernel-style loop root is accepted for migrating setups", "[cmdline]") {
  auto p = parse_cmdline("real_root=/hn-root.img raw_loop_root_host_partition=LABEL=oldhost");
  CHECK(p.warnings.empty());
  CHECK(p.config.hostpart.to_string() == "LABEL=oldhost");
  CHECK(p.config.image == "hn-root.img");
}

TEST_CASE("imgroot.hostpart wins over the genkernel alias in either order", "[cmdline]") {
  CHECK(parse_cmdline("imgroot.hostpart=LABEL=a raw_loop_root_host_partition=LABEL=b").config.hostpart.value == "a");
  CHECK(parse_cmdline("raw_loop_root_host_partition=LABEL=b imgroot.hostpart=LABEL=a").config.hostpart.value == "a");
}

TEST_CASE("dracut's root=imgroot:SPEC names the host partition", "[cmdline]") {
  auto p = parse_cmdline("root=imgroot:UUID=0a1b2c3d-0000-4000-8000-00000000abcd");
  CHECK(p.warnings.empty());
  CHECK(p.config.hostpart.to_string() == "UUID=0a1b2c3d-0000-4000-8000-00000000abcd");
  CHECK(parse_cmdline("root=imgroot:/dev/vda2").config.hostpart.to_string() == "/dev/vda2");
}

TEST_CASE("a bare root=imgroot keeps the default host partition", "[cmdline]") {
  auto p = parse_cmdline("root=imgroot");
  CHECK(p.warnings.empty());
  CHECK(p.config.hostpart == kDefaultHostpart);
}

TEST_CASE("imgroot.hostpart wins over root=imgroot:SPEC in either order", "[cmdline]") {
  CHECK(parse_cmdline("imgroot.hostpart=LABEL=a root=imgroot:LABEL=b").config.hostpart.value == "a");
  CHECK(parse_cmdline("root=imgroot:LABEL=b imgroot.hostpart=LABEL=a").config.hostpart.value == "a");
}

TEST_CASE("a malformed root=imgroot:SPEC is reported and defaulted", "[cmdline]") {
  auto p = parse_cmdline("root=imgroot:sda2");
  REQUIRE(p.warnings.size() == 1);
  CHECK_THAT(p.warnings[0], Catch::StartsWith("root=imgroot:sda2") && Catch::Contains("using LABEL=hostpart"));
  CHECK(p.config.hostpart == kDefaultHostpart);
}

TEST_CASE("unknown parameters are ignored without a word", "[cmdline]") {
  auto p = parse_cmdline("quiet splash foo=bar imgroot.unknown=1 root=/dev/sda1");
  CHECK(p.warnings.empty());
}

TEST_CASE("imgroot.unstage=1 asks to give up the staged image, and it is off by default",
          "[cmdline]") {
  CHECK_FALSE(parse_cmdline("").config.unstage);
  CHECK(parse_cmdline("imgroot.image=hn-root.img imgroot.unstage=1").config.unstage);
  CHECK(parse_cmdline("imgroot.unstage").config.unstage);
  CHECK_FALSE(parse_cmdline("imgroot.unstage=1 imgroot.unstage=0").config.unstage);
  auto bad = parse_cmdline("imgroot.unstage=maybe");
  CHECK_FALSE(bad.config.unstage);
  REQUIRE(bad.warnings.size() == 1);
  CHECK(bad.warnings[0] == "imgroot.unstage=maybe: malformed; using off");
}
