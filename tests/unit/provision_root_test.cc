// imgroot provision on real (sparse file) disks through loop devices. Needs
// root and loop devices; skips with a message otherwise. Each test case runs
// in its own mount namespace (ctest runs every case as its own process).
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdio>
#include <optional>

#include "grub/env.h"
#include "provision/parted.h"
#include "provision/partitions.h"
#include "root_support.h"
#include "stage_support.h"
#include "system/fd.h"
#include "system/loop.h"
#include "system/mount.h"

using namespace imgroot;
using namespace imgroot::test;

namespace {

constexpr std::uint64_t MiB = provision::kMiB;

Ran imgroot_cli(const std::string& args) { return run(std::string(IMGROOT_BINARY) + " " + args); }

// A sparse disk image file and a tiny image that passes stage's checks.
struct Disk {
  TempDir dir;
  std::string file = dir / "disk.img", image = dir / "node.img";
  explicit Disk(const std::string& size = "1G") {
    REQUIRE(run("truncate -s " + size + " " + shell_quote(file)).status == 0);
    make_good_image(image, dir / "root");
  }
  Ran provision(const std::string& options, const std::string& target = "") {
    return imgroot_cli("provision " + shell_quote(target.empty() ? file : target) + " --image " +
                       shell_quote(image) + " " + options);
  }
  std::uint64_t allocated() const {
    return static_cast<std::uint64_t>(stat_of(file).st_blocks) * 512;
  }
  // A line of `sgdisk -i N` ("Partition name: 'hostpart'" -> "'hostpart'").
  std::string gpt_field(int n, const std::string& field) const {
    auto r = run("sgdisk -i " + std::to_string(n) + " " + shell_quote(file) + " | sed -n 's/^" +
                 field + ": //p'");
    REQUIRE(r.status == 0);
    return r.output.substr(0, r.output.find('\n'));
  }
  // Partition N's first sector and length in sectors, as partx reads the file.
  std::pair<std::uint64_t, std::uint64_t> extent(int n) const {
    auto r = run("partx -g -n " + std::to_string(n) + " -o START,SECTORS " + shell_quote(file));
    REQUIRE(r.status == 0);
    unsigned long long start = 0, sectors = 0;
    REQUIRE(std::sscanf(r.output.c_str(), "%llu %llu", &start, &sectors) == 2);
    return {start, sectors};
  }
  // What blkid says of partition N's filesystem.
  std::string blkid(int n, const std::string& tag) const {
    auto [start, sectors] = extent(n);
    auto r = run("blkid -p -o value -s " + tag + " -O " + std::to_string(start * 512) + " -S " +
                 std::to_string(sectors * 512) + " " + shell_quote(file));
    return r.output.substr(0, r.output.find('\n'));
  }
  std::string esp_file(const std::string& path) const {
    auto r = run("MTOOLS_SKIP_CHECK=1 mtype -i " + shell_quote(file + "@@1M") + " ::" + path);
    REQUIRE(r.status == 0);
    return r.output;
  }
  // The host partition, copied out and checked with e2fsck.
  std::string hostpart_copy() const {
    const std::string out = dir / "hostpart.ext4";
    auto [start, sectors] = extent(2);
    auto r = run("dd if=" + shell_quote(file) + " of=" + shell_quote(out) + " bs=512 skip=" +
                 std::to_string(start) + " count=" + std::to_string(sectors) +
                 " conv=sparse status=none && e2fsck -fn " + shell_quote(out));
    INFO(r.output);
    REQUIRE(r.status == 0);
    return out;
  }
};

// Loop devices backed by 'file', by name.
std::vector<std::string> loops_backed_by(const std::string& file) {
  std::vector<std::string> out;
  const struct stat want = stat_of(file);
  for (const auto& e : std::filesystem::directory_iterator("/sys/block")) {
    std::string backing = e.path().string() + "/loop/backing_file";
    if (!exists(backing)) continue;
    std::string path = read_text(backing);
    if (!path.empty() && path.back() == '\n') path.pop_back();
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && st.st_dev == want.st_dev && st.st_ino == want.st_ino)
      out.push_back(e.path().filename().string());
  }
  return out;
}

std::vector<std::string> private_node_dirs(const std::string& base) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(base))
    if (e.path().filename().string().starts_with(".imgroot-provision.")) out.push_back(e.path());
  return out;
}

}  // namespace

TEST_CASE("provision makes a sparse 1 GiB file a GPT disk with EFI-BOOT, GRUB, hostpart and the image",
          "[root][provision]") {
  if (!can_loop_mount_privately()) return;
  Disk disk;
  const std::string mounts_before = read_text("/proc/self/mountinfo");
  auto r = disk.provision("--yes --timeout 0 --cmdline console=ttyS0");
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.output, Catch::Contains("The plan for") && Catch::Contains("provisioned "));

  // Nothing is left mounted, attached, or in /dev.
  CHECK(read_text("/proc/self/mountinfo") == mounts_before);
  CHECK(loops_backed_by(disk.file).empty());
  CHECK(private_node_dirs("/dev").empty());

  // The partition table, read by sgdisk.
  CHECK_THAT(disk.gpt_field(1, "Partition GUID code"),
             Catch::StartsWith("C12A7328-F81F-11D2-BA4B-00A0C93EC93B"));
  CHECK(disk.gpt_field(1, "Partition name") == "'EFI-BOOT'");
  CHECK(disk.gpt_field(1, "First sector") == "2048 (at 1024.0 KiB)");
  CHECK(disk.gpt_field(1, "Partition size") == "262144 sectors (128.0 MiB)");
  CHECK(disk.gpt_field(2, "Partition name") == "'hostpart'");
  CHECK(disk.gpt_field(2, "Last sector") == "2095103 (at 1023.0 MiB)");
  CHECK(run("sgdisk -v " + shell_quote(disk.file) + " | grep -q 'No problems found'").status == 0);

  // The filesystems, read by blkid.
  CHECK(disk.blkid(1, "TYPE") == "vfat");
  CHECK(disk.blkid(1, "VERSION") == "FAT32");
  CHECK(disk.blkid(1, "LABEL") == "EFI-BOOT");
  CHECK(disk.blkid(2, "TYPE") == "ext4");
  CHECK(disk.blkid(2, "LABEL") == "hostpart");

  // EFI-BOOT, read by mtools: GRUB, the grub.cfg `imgroot grub` writes, an empty grubenv.
  CHECK(disk.esp_file("/EFI/BOOT/BOOTX64.EFI").starts_with("MZ"));
  auto cfg = imgroot_cli("grub --stdout --timeout 0 --cmdline console=ttyS0");
  REQUIRE(cfg.status == 0);
  CHECK(disk.esp_file("/grub/grub.cfg") == cfg.output);
  const std::string env = disk.esp_file("/grub/grubenv");
  CHECK(env.size() == grub::kEnvBlockSize);
  CHECK(grub::parse_env(env).value().vars().empty());

  // hostpart, read by debugfs: the image as hn-root.img, data/, imgroot/ and its record.
  const std::string hp = disk.hostpart_copy();
  auto ls = run("debugfs -R 'ls -p /' " + shell_quote(hp) + " 2>/dev/null | cut -d/ -f6 | sort | tr '\\n' ' '");
  CHECK(ls.output == " . .. data hn-root.img imgroot lost+found ");
  auto image = run("debugfs -R 'cat /hn-root.img' " + shell_quote(hp) + " 2>/dev/null | cmp - " +
                   shell_quote(disk.image));
  CHECK(image.status == 0);
  auto state = run("debugfs -R 'cat /imgroot/state.json' " + shell_quote(hp) + " 2>/dev/null");
  CHECK_THAT(state.output, Catch::Contains(disk.image));
}

TEST_CASE("without --yes provision prints the plan, refuses, and leaves the disk untouched",
          "[root][provision]") {
  if (!can_loop_mount_privately()) return;
  Disk disk;
  auto r = disk.provision("");
  CHECK(r.status == 1);
  CHECK_THAT(r.output, Catch::Contains("erase     everything on it: nothing libblkid recognises"));
  CHECK_THAT(r.output, Catch::Contains("2  hostpart    894 MiB at 129 MiB   ext4 labelled 'hostpart'"));
  CHECK_THAT(r.output, Catch::EndsWith("everything on it would be erased; nothing was changed. "
                                       "Check the plan above and run again with --yes\n"));
  CHECK(disk.allocated() == 0);
}

TEST_CASE("a dry run prints the plan and changes nothing", "[root][provision]") {
  if (!can_loop_mount_privately()) return;
  Disk disk;
  auto r = disk.provision("--dry-run --fs xfs");
  CHECK(r.status == 0);
  CHECK_THAT(r.output, Catch::Contains("xfs labelled 'hostpart'") &&
                           Catch::EndsWith("dry run: nothing was changed\n"));
  CHECK(disk.allocated() == 0);
  CHECK(loops_backed_by(disk.file).empty());
}

TEST_CASE("an image that fails stage's checks is refused before the disk is touched",
          "[root][provision]") {
  if (!can_loop_mount_privately()) return;
  Disk disk;
  make_ext4_image(disk.dir / "noinit.img", disk.dir / "noinit",
                  {{"boot/kernel", "k"}, {"boot/initramfs", "i"}});
  auto r = imgroot_cli("provision " + shell_quote(disk.file) + " --yes --image " +
                       shell_quote(disk.dir / "noinit.img"));
  CHECK(r.status == 1);
  CHECK(r.output == "imgroot: provision '" + disk.file + "': image '" + disk.dir.path() +
                        "/noinit.img': the image has no /sbin/init\n");
  write_text(disk.dir / "garbage.img", std::string(1 << 20, 'x'));
  auto garbage = imgroot_cli("provision " + shell_quote(disk.file) + " --yes --image " +
                             shell_quote(disk.dir / "garbage.img"));
  CHECK(garbage.status == 1);
  CHECK_THAT(garbage.output, Catch::Contains("has no filesystem that libblkid recognises"));
  make_foreign_image(disk.dir / "vfat.img", "vfat");
  auto vfat = imgroot_cli("provision " + shell_quote(disk.file) + " --yes --image " +
                          shell_quote(disk.dir / "vfat.img"));
  CHECK(vfat.status == 1);
  CHECK(vfat.output == "imgroot: provision '" + disk.file + "': " +
                           foreign_refusal(disk.dir / "vfat.img", "vfat") + "\n");
  CHECK(disk.allocated() == 0);
}

TEST_CASE("an erofs image is refused: the GRUB that provision installs cannot read it",
          "[root][provision]") {
  if (!can_loop_mount_privately()) return;
  Disk disk;
  if (!make_good_erofs_image(disk.dir / "erofs.img", disk.dir / "erofs-root")) return;
  auto r = imgroot_cli("provision " + shell_quote(disk.file) + " --yes --image " +
                       shell_quote(disk.dir / "erofs.img"));
  CHECK(r.status == 1);
  CHECK(r.output == "imgroot: provision '" + disk.file + "': '" + (disk.dir / "erofs.img") +
                        "' holds an erofs filesystem, which GRUB 2.06 (Debian 12) cannot read: "
                        "GRUB would not find the image's /boot/kernel and the node would not "
                        "boot; make the image squashfs or ext4\n");
  CHECK(disk.allocated() == 0);
}

TEST_CASE("a disk too small for the image is refused before it is touched", "[root][provision]") {
  if (!can_loop_mount_privately()) return;
  Disk disk("120M");
  auto r = disk.provision("--yes");
  CHECK(r.status == 1);
  CHECK_THAT(r.output, Catch::Contains("is too small"));
  CHECK(disk.allocated() == 0);
}

TEST_CASE("provision works on a block device and refuses it while a partition is mounted",
          "[root][provision]") {
  if (!can_loop_mount_privately()) return;
  Disk disk;
  auto file = Fd::open(disk.file, O_RDWR);
  REQUIRE(file);
  auto loop = LoopDevice::attach(*file, false, /*scan_partitions=*/true);
  REQUIRE(loop);
  auto r = disk.provision("--yes --fs btrfs", loop->path());
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(disk.blkid(2, "TYPE") == "btrfs");
  CHECK(disk.blkid(2, "LABEL") == "hostpart");

  // The file is attached (to our loop device): refused by its name too.
  auto attached = disk.provision("--dry-run");
  CHECK(attached.status == 1);
  CHECK_THAT(attached.output, Catch::Contains("is attached to " + loop->path()));

  // Mount its host partition (the node: provision made the kernel see the
  // partitions; a node of our own where /dev has none).
  const std::string name = loop->path().substr(5);
  const std::string devno = read_text("/sys/block/" + name + "/" + name + "p2/dev");
  std::string node = "/dev/" + name + "p2";
  if (!exists(node)) {
    node = disk.dir / "p2";
    unsigned ma = 0, mi = 0;
    REQUIRE(std::sscanf(devno.c_str(), "%u:%u", &ma, &mi) == 2);
    REQUIRE(::mknod(node.c_str(), S_IFBLK | 0600, makedev(ma, mi)) == 0);
  }
  std::filesystem::create_directory(disk.dir / "mnt");
  auto mounted = Mount::create(node, disk.dir / "mnt", "btrfs");
  REQUIRE(mounted);
  auto refused = disk.provision("--yes", loop->path());
  CHECK(refused.status == 1);
  CHECK(refused.output == "imgroot: provision '" + loop->path() + "': '" + loop->path() +
                              "' is in use: " + name + "p2 is mounted at '" + disk.dir.path() +
                              "/mnt'; unmount it first\n");
}

TEST_CASE("a loop device that cannot carry partitions is refused", "[root][provision]") {
  if (!can_loop_mount_privately()) return;
  Disk disk;
  auto file = Fd::open(disk.file, O_RDWR);
  REQUIRE(file);
  auto loop = LoopDevice::attach(*file, false);  // no partition scanning
  REQUIRE(loop);
  auto r = disk.provision("--yes", loop->path());
  CHECK(r.status == 1);
  CHECK_THAT(r.output, Catch::Contains("cannot carry partitions (a loop device attached without "
                                       "partition scanning)"));
}

TEST_CASE("a failure halfway says the disk is partly written and leaves nothing mounted or attached",
          "[root][provision]") {
  if (!can_loop_mount_privately()) return;
  Disk disk;
  // Tools earlier in PATH that fail in two places: after the host partition
  // was mounted (a 4 MiB filesystem: the copy does not fit), and at the end.
  const std::string bin = disk.dir / "bin";
  std::filesystem::create_directory(bin);
  std::string expect;
  SECTION("the image does not fit on the host partition that was mounted") {
    write_text(bin + "/mkfs.ext4",
               "#!/bin/sh\nfor dev; do :; done\nexec /sbin/mkfs.ext4 -q -F -L hostpart \"$dev\" 4M\n");
    expect = "not enough space on the host partition";
  }
  SECTION("grub-mkimage fails") {
    write_text(bin + "/grub-mkimage", "#!/bin/sh\necho 'grub-mkimage: error: simulated' >&2\nexit 1\n");
    expect = "make GRUB's EFI image: run grub-mkimage: exit status 1: grub-mkimage: error: simulated";
  }
  REQUIRE(run("chmod +x " + shell_quote(bin) + "/*").status == 0);
  const std::string mounts_before = read_text("/proc/self/mountinfo");
  auto r = run("PATH=" + shell_quote(bin) + ":$PATH " + IMGROOT_BINARY + " provision " +
               shell_quote(disk.file) + " --yes --image " + shell_quote(disk.image));
  CHECK(r.status == 1);
  CHECK_THAT(r.output, Catch::Contains(expect) &&
                           Catch::EndsWith("; the disk is left partly written (nothing is mounted or "
                                           "attached): provision it again\n"));
  CHECK(read_text("/proc/self/mountinfo") == mounts_before);
  CHECK(loops_backed_by(disk.file).empty());
  CHECK(private_node_dirs("/dev").empty());
}

TEST_CASE("provision makes xfs host partitions too", "[root][provision]") {
  if (!can_loop_mount_privately()) return;
  Disk disk;
  auto r = disk.provision("--yes --fs xfs --esp-size 32MiB");
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(disk.blkid(1, "LABEL") == "EFI-BOOT");
  CHECK(disk.blkid(1, "VERSION") == "FAT16");
  CHECK(disk.blkid(2, "TYPE") == "xfs");
  CHECK(disk.blkid(2, "LABEL") == "hostpart");
}

TEST_CASE("partition nodes are made in a private directory where /dev has none",
          "[root][provision]") {
  if (!can_loop_mount_privately()) return;
  TempDir dir;
  const std::string file = dir / "disk.img";
  REQUIRE(run("truncate -s 64M " + shell_quote(file)).status == 0);
  auto fd = Fd::open(file, O_RDWR);
  REQUIRE(fd);
  auto loop = LoopDevice::attach(*fd, false, /*scan_partitions=*/true);
  REQUIRE(loop);
  const std::vector<provision::Extent> extents{{MiB, 8 * MiB}, {9 * MiB, 16 * MiB}};
  REQUIRE(provision::write_gpt(loop->path(), {{extents[0], "one", "fat32", true},
                                              {extents[1], "two", "ext4", false}}));
  provision::SystemPaths paths;
  std::filesystem::create_directory(dir / "empty-dev");
  paths.dev = dir / "empty-dev";
  paths.node_dir_base = dir.path();
  std::string node2;
  {
    auto nodes = provision::PartitionNodes::expose(loop->fd(), loop->path().substr(5), extents, paths);
    REQUIRE(nodes);
    CHECK(nodes->made_nodes());
    node2 = nodes->node(2);
    CHECK_THAT(node2, Catch::StartsWith(dir / ".imgroot-provision."));
    CHECK(S_ISBLK(stat_of(node2).st_mode));
    // Written through the node, found at partition 2's offset in the file.
    auto part = Fd::open(node2, O_WRONLY);
    REQUIRE(part);
    REQUIRE(::pwrite(part->get(), "marker", 6, 512) == 6);
    REQUIRE(::fsync(part->get()) == 0);
  }
  CHECK_FALSE(exists(node2));
  CHECK(private_node_dirs(dir.path()).empty());
  auto back = Fd::open(file, O_RDONLY);
  REQUIRE(back);
  char buf[6];
  REQUIRE(::pread(back->get(), buf, 6, static_cast<off_t>(9 * MiB + 512)) == 6);
  CHECK(std::string(buf, 6) == "marker");
}
