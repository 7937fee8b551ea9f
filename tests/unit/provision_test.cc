// imgroot provision without a disk: the layout, sizes, the plan's text, and
// the safety checks decided on fixture mount tables and sysfs trees.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "provision/in_use.h"
#include "provision/layout.h"
#include "provision/provision.h"
#include "stage_support.h"

using namespace imgroot;
using namespace imgroot::provision;
using namespace imgroot::test;

namespace {

constexpr std::uint64_t MiB = kMiB;
constexpr std::uint64_t GiB = 1024 * MiB;

// A sysfs tree, a mount table and a swap list for one disk, "vdz" (253:0).
struct FakeSystem {
  TempDir dir;
  SystemPaths paths;
  Target disk;
  std::string mountinfo = "20 1 0:30 / / rw - overlay overlay rw\n";
  std::string swaps = "Filename\tType\tSize\tUsed\tPriority\n";

  FakeSystem() {
    paths.mountinfo = dir / "mountinfo";
    paths.swaps = dir / "swaps";
    paths.sys_block = dir / "sys/block";
    paths.sys_dev_block = dir / "sys/dev/block";
    std::filesystem::create_directories(paths.sys_block + "/vdz/holders");
    std::filesystem::create_directories(paths.sys_dev_block);
    write_text(paths.sys_block + "/vdz/dev", "253:0\n");
    disk.kind = Target::Kind::kBlockDevice;
    disk.path = "/dev/vdz";
    disk.rdev = makedev(253, 0);
    disk.sys_name = "vdz";
  }
  void partition(int n, const std::string& devno) {
    std::string p = paths.sys_block + "/vdz/vdz" + std::to_string(n);
    std::filesystem::create_directories(p + "/holders");
    write_text(p + "/partition", std::to_string(n) + "\n");
    write_text(p + "/dev", devno + "\n");
  }
  // Partition 'n' as the device the file 'path' is on.
  void partition_holding(int n, const std::string& path) {
    const dev_t dev = stat_of(path).st_dev;
    partition(n, std::to_string(major(dev)) + ":" + std::to_string(minor(dev)));
  }
  // A loop device whose backing file is 'file'.
  void loop(const std::string& devno, const std::string& file) {
    std::filesystem::create_directories(paths.sys_dev_block + "/" + devno + "/loop");
    write_text(paths.sys_dev_block + "/" + devno + "/loop/backing_file", file + "\n");
  }
  void mount(int id, const std::string& devno, const std::string& target, const std::string& source) {
    mountinfo += std::to_string(id) + " 20 " + devno + " / " + target + " rw - ext4 " + source + " rw\n";
  }
  Status check() {
    write_text(paths.mountinfo, mountinfo);
    write_text(paths.swaps, swaps);
    return check_not_in_use(disk, paths);
  }
};

std::string message(const Status& s) { return s ? std::string() : s.error().message; }

}  // namespace

TEST_CASE("sizes on the command line take binary units", "[provision]") {
  CHECK(parse_size("128MiB").value() == 128 * MiB);
  CHECK(parse_size("128M").value() == 128 * MiB);
  CHECK(parse_size("1G").value() == GiB);
  CHECK(parse_size("2gib").value() == 2 * GiB);
  CHECK(parse_size("4096").value() == 4096);
  CHECK_FALSE(parse_size("12X"));
  CHECK_FALSE(parse_size("MiB"));
  CHECK_FALSE(parse_size(""));
  CHECK_FALSE(parse_size("99999999999T"));
}

TEST_CASE("the host filesystem is ext4, btrfs or xfs", "[provision]") {
  CHECK(parse_host_fs("ext4") == HostFs::kExt4);
  CHECK(parse_host_fs("btrfs") == HostFs::kBtrfs);
  CHECK(parse_host_fs("xfs") == HostFs::kXfs);
  CHECK_FALSE(parse_host_fs("vfat"));
  CHECK_FALSE(parse_host_fs("ext3"));
}

TEST_CASE("EFI-BOOT starts at 1 MiB and hostpart takes the rest but the last MiB", "[provision]") {
  auto l = compute_layout(GiB, 128 * MiB, HostFs::kExt4, 64 * MiB).value();
  CHECK(l.esp.start == MiB);
  CHECK(l.esp.size == 128 * MiB);
  CHECK(l.hostpart.start == 129 * MiB);
  CHECK(l.hostpart.end() == GiB - MiB);
  // A disk size that is not whole MiB: the host partition ends on a MiB boundary.
  auto odd = compute_layout(GiB + 12345, 100 * MiB + 1, HostFs::kExt4, 0).value();
  CHECK(odd.esp.size == 101 * MiB);
  CHECK(odd.hostpart.end() == GiB - MiB);
}

TEST_CASE("a disk too small for the image is refused with the sizes", "[provision]") {
  auto l = compute_layout(512 * MiB, 128 * MiB, HostFs::kExt4, 400 * MiB);
  REQUIRE_FALSE(l);
  CHECK_THAT(l.error().message, Catch::Contains("too small") && Catch::Contains("400 MiB") &&
                                    Catch::Contains("smaller --esp-size"));
}

TEST_CASE("xfs and btrfs need their minimum sizes, and the ESP room for GRUB", "[provision]") {
  CHECK_FALSE(compute_layout(256 * MiB, 8 * MiB, HostFs::kXfs, MiB));
  CHECK(compute_layout(320 * MiB, 8 * MiB, HostFs::kXfs, MiB));
  CHECK_FALSE(compute_layout(128 * MiB, 8 * MiB, HostFs::kBtrfs, MiB));
  auto tiny_esp = compute_layout(GiB, 4 * MiB, HostFs::kExt4, MiB);
  REQUIRE_FALSE(tiny_esp);
  CHECK_THAT(tiny_esp.error().message, Catch::Contains("too small for GRUB"));
}

TEST_CASE("an ESP size near 2^64 is refused, not wrapped around", "[provision]") {
  // Found by fuzzing: rounding 2^64 - 1 up to a MiB wrapped to 0, past the
  // minimum checked before rounding. 17592186044415M is just under 2^64 too.
  for (std::uint64_t esp : {UINT64_MAX, parse_size("17592186044415M").value(), UINT64_MAX - MiB,
                            2 * GiB, GiB}) {
    INFO(esp);
    auto l = compute_layout(GiB, esp, HostFs::kExt4, MiB);
    REQUIRE_FALSE(l);
    CHECK_THAT(l.error().message, Catch::Contains("is too small for an EFI-BOOT partition"));
  }
  for (std::uint64_t disk : {UINT64_MAX, UINT64_MAX - MiB / 2}) {
    INFO(disk);
    auto huge = compute_layout(disk, UINT64_MAX - 3 * MiB, HostFs::kExt4, MiB);
    REQUIRE_FALSE(huge);
    auto l = compute_layout(disk, 128 * MiB, HostFs::kExt4, UINT64_MAX);
    REQUIRE_FALSE(l);
    CHECK_THAT(l.error().message, Catch::Contains("too small"));
  }
}

TEST_CASE("the ESP minimum holds for the size after rounding", "[provision]") {
  auto l = compute_layout(GiB, 8 * MiB - 1, HostFs::kExt4, MiB).value();
  CHECK(l.esp.size == 8 * MiB);
  CHECK_FALSE(compute_layout(GiB, 7 * MiB, HostFs::kExt4, MiB));
}

TEST_CASE("an unused disk passes the safety checks", "[provision]") {
  FakeSystem sys;
  sys.partition(1, "253:1");
  sys.partition(2, "253:2");
  sys.mount(21, "8:1", "/mnt/other", "/dev/sdq1");
  CHECK(sys.check());
}

TEST_CASE("a disk with a mounted partition is refused, naming the mount point", "[provision]") {
  FakeSystem sys;
  sys.partition(1, "253:1");
  sys.partition(2, "253:2");
  sys.mount(21, "253:2", "/srv/data", "/dev/vdz2");
  auto s = sys.check();
  REQUIRE_FALSE(s);
  CHECK(message(s) == "'/dev/vdz' is in use: vdz2 is mounted at '/srv/data'; unmount it first");
}

TEST_CASE("a disk mounted as a whole is refused", "[provision]") {
  FakeSystem sys;
  sys.mount(21, "253:0", "/mnt", "/dev/vdz");
  CHECK_THAT(message(sys.check()), Catch::Contains("vdz is mounted at '/mnt'"));
}

TEST_CASE("a disk holding the running root is refused", "[provision]") {
  FakeSystem sys;
  sys.partition(2, "253:2");
  sys.mount(21, "253:2", "/", "/dev/vdz2");
  CHECK(message(sys.check()) == "'/dev/vdz' holds the running root: / is on vdz2; provision another disk");
}

TEST_CASE("a disk whose host partition holds the image / runs from is refused", "[provision]") {
  // An imgroot node: / is a loop device backed by hn-root.img on the host
  // partition, which is on the disk.
  FakeSystem sys;
  const std::string image = sys.dir / "hn-root.img";
  write_text(image, "image");
  sys.partition_holding(2, image);
  sys.loop("7:0", image);
  sys.mount(21, "7:0", "/", "/nonexistent/loop0");
  CHECK(message(sys.check()) == "'/dev/vdz' holds the running root: / is on the loop device backed by '" +
                                    image + "', which is on vdz2; provision another disk");
}

TEST_CASE("a disk with a swap partition in use is refused", "[provision]") {
  FakeSystem sys;
  // /proc/swaps names the device; its number comes from the device node, so
  // use a real one: the directory's own device stands for partition 1.
  sys.partition_holding(1, sys.dir.path());
  sys.swaps += sys.dir.path() + "/swapfile\tfile\t1024\t0\t-2\n";
  write_text(sys.dir / "swapfile", "");
  CHECK_THAT(message(sys.check()), Catch::Contains("vdz1 holds swap space") && Catch::Contains("swapoff"));
}

TEST_CASE("a disk held by device mapper is refused", "[provision]") {
  FakeSystem sys;
  sys.partition(2, "253:2");
  std::filesystem::create_directories(sys.paths.sys_block + "/vdz/vdz2/holders/dm-0");
  CHECK(message(sys.check()) ==
        "'/dev/vdz' is in use: vdz2 is held by dm-0 (device mapper, LVM or RAID); stop that first");
}

TEST_CASE("a disk image file attached to a loop device is refused", "[provision]") {
  FakeSystem sys;
  const std::string file = sys.dir / "disk.img";
  write_text(file, "disk");
  const struct stat st = stat_of(file);
  Target target;
  target.path = file;
  target.dev = st.st_dev;
  target.ino = st.st_ino;
  std::filesystem::create_directories(sys.paths.sys_block + "/loop5/loop");
  std::filesystem::create_directories(sys.paths.sys_block + "/loop6");
  CHECK(check_not_in_use(target, sys.paths));
  write_text(sys.paths.sys_block + "/loop5/loop/backing_file", file + "\n");
  auto s = check_not_in_use(target, sys.paths);
  CHECK(message(s) == "'" + file +
                          "' is attached to /dev/loop5 (its partitions may be mounted through it); "
                          "detach it first (losetup -d /dev/loop5)");
}

TEST_CASE("a directory or a partition is not a disk", "[provision]") {
  TempDir dir;
  auto d = open_target(dir.path(), SystemPaths{});
  REQUIRE_FALSE(d);
  CHECK_THAT(d.error().message, Catch::Contains("neither a disk"));
}

TEST_CASE("the plan says what is erased and what is created", "[provision]") {
  Plan plan;
  plan.request.disk = "/dev/vdz";
  plan.request.image = "node.img";
  plan.target.kind = Target::Kind::kBlockDevice;
  plan.target.path = "/dev/vdz";
  plan.target.size = 8 * GiB;
  plan.target.model = "QEMU HARDDISK";
  plan.target.contents.table = "dos";
  plan.target.contents.partitions.push_back({1, MiB, 2 * GiB, "", FoundFilesystem{"ext4", "old-root"}});
  plan.target.contents.partitions.push_back({2, 2 * GiB + MiB, GiB, "", std::nullopt});
  plan.image = {"ext4", 512 * MiB, 300 * MiB};
  plan.layout = compute_layout(8 * GiB, 128 * MiB, HostFs::kExt4, 300 * MiB).value();
  const std::string text = describe_plan(plan);
  CHECK_THAT(text, Catch::StartsWith("The plan for '/dev/vdz' (QEMU HARDDISK, 8.0 GiB):\n"));
  CHECK_THAT(text, Catch::Contains("erase     everything on it: a DOS (MBR) partition table with 2 partitions:\n"));
  CHECK_THAT(text, Catch::Contains("1  2.0 GiB, ext4 'old-root'\n"));
  CHECK_THAT(text, Catch::Contains("2  1.0 GiB, no filesystem recognised\n"));
  CHECK_THAT(text, Catch::Contains("1  EFI-BOOT    128 MiB at 1.0 MiB   FAT32 labelled 'EFI-BOOT', EFI system partition\n"));
  CHECK_THAT(text, Catch::Contains("2  hostpart    7.9 GiB at 129 MiB   ext4 labelled 'hostpart'\n"));
  CHECK_THAT(text, Catch::Contains("EFI/BOOT/BOOTX64.EFI"));
  CHECK_THAT(text, Catch::Contains("'node.img' (ext4, 512 MiB) as hn-root.img"));
}
