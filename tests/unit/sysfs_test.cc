// sysfs attributes (lib/system/sysfs.h) read from a fixture directory, and
// the rule which block devices never hold the host partition.
#include <catch2/catch.hpp>
#include <string>

#include "system/file.h"
#include "system/fd.h"
#include "system/sysfs.h"
#include "system/temp_dir.h"

using namespace imgroot;

namespace {

struct FakeSysfs {
  TempDir tmp = TempDir::create("/tmp", "imgroot-sysfs").value();
  Fd dir = Fd::open_dir(tmp.path()).value();

  std::string put(const std::string& name, const std::string& text) {
    REQUIRE(write_file_atomic_at(dir.get(), name, text));
    return tmp.path() + "/" + name;
  }
};

}  // namespace

TEST_CASE("a sysfs attribute is read without its newline and padding", "[sysfs]") {
  FakeSysfs sys;
  CHECK(sysfs_attribute(sys.put("ro", "1\n")) == "1");
  CHECK(sysfs_attribute(sys.put("vendor", "ATA     \n")) == "ATA");
  CHECK(sysfs_attribute(sys.put("model", "  QEMU HARDDISK   \n")) == "QEMU HARDDISK");
  CHECK(sysfs_attribute(sys.put("backing_file", "/hostpart/hn-root.img\n")) ==
        "/hostpart/hn-root.img");
}

TEST_CASE("a missing sysfs attribute reads as empty", "[sysfs]") {
  FakeSysfs sys;
  CHECK(sysfs_attribute(sys.tmp.path() + "/partition").empty());
  CHECK(sysfs_attribute(sys.put("blank", "\n")).empty());
}

TEST_CASE("a numeric sysfs attribute is its number, or 0 when missing or not a number", "[sysfs]") {
  FakeSysfs sys;
  CHECK(sysfs_number(sys.put("size", "2097152\n")) == 2097152);
  CHECK(sysfs_number(sys.put("partition", "3\n")) == 3);
  CHECK(sysfs_number(sys.tmp.path() + "/start") == 0);
  CHECK(sysfs_number(sys.put("dev", "7:0\n")) == 0);
  CHECK(sysfs_number(sys.put("empty", "")) == 0);
}

TEST_CASE("loop devices and RAM disks, zram included, are never searched for the host partition",
          "[sysfs]") {
  for (const char* name : {"loop0", "loop12", "loop0p1", "ram0", "ram15", "zram0", "zram1"})
    CHECK(is_loop_or_ram_disk(name));
  for (const char* name : {"sda", "sda1", "vda", "nvme0n1p2", "mmcblk0p1", "dm-0", "md0", "sr0"})
    CHECK_FALSE(is_loop_or_ram_disk(name));
}
