#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "boot/module_table.h"
#include "modules.h"

using namespace imgroot;
using imgroot::init::modules_needed;

namespace {

// Patterns as kmod writes them in modules.alias (Debian 12's 6.1 kernel).
constexpr const char* kTable =
    "# written by imgroot initramfs\n"
    "module ahci /m/libata.ko /m/libahci.ko /m/ahci.ko\n"
    "module sd_mod /m/sd_mod.ko\n"
    "module usb_storage /m/usb-storage.ko\n"
    "module uas /m/usb-storage.ko /m/uas.ko\n"
    "module virtio_blk /m/virtio_blk.ko\n"
    "module crc32c_intel /m/crc32c-intel.ko\n"
    "module ext4 /m/crc16.ko /m/crc32c-intel.ko /m/ext4.ko\n"
    "module loop /m/loop.ko\n"
    "alias pci:v00008086d00002922sv*sd*bc*sc*i* ahci\n"
    "alias pci:v*d*sv*sd*bc01sc06i01* ahci\n"
    "alias scsi:t_0x00* sd_mod\n"
    "alias usb:v*p*d*dc*dsc*dp*ic08isc06ip50in* usb_storage\n"
    "alias usb:v*p*d*dc*dsc*dp*ic08isc06ip62in* uas\n"
    "alias usb:v*p*d*dc*dsc*dp*ic08isc06ip50in* uas\n"
    "alias virtio:d00000002v* virtio_blk\n"
    "alias cpu:type:x86,ven*fam*mod*:feature:*0094* crc32c_intel\n"
    "alias fs_ext4 ext4\n"
    "alias devname:loop_control loop\n"
    "alias block_major_7_* loop\n"
    "alias pci:v00001AF4d0000[1-9]* virtio_blk\n";

ModuleTable table() {
  auto parsed = parse_module_table(kTable);
  if (!parsed) FAIL(parsed.error().message);
  return *parsed;
}

}  // namespace

struct Lookup {
  const char* name;
  std::vector<std::string> modules;
};

void check_lookups(const std::vector<Lookup>& lookups) {
  const ModuleTable t = table();
  for (const auto& l : lookups) {
    INFO(l.name);
    CHECK(modules_for(t, l.name) == l.modules);
  }
}

TEST_CASE("a device's modalias finds its driver through kmod's wildcards", "[module_table]") {
  check_lookups({
      {"pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01", {"ahci"}},
      // Any vendor's AHCI controller, by its class code.
      {"pci:v00001B4Bd00009230sv00001B4Bsd00009230bc01sc06i01", {"ahci"}},
      {"virtio:d00000002v00001AF4", {"virtio_blk"}},
      {"pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00", {"virtio_blk"}},
      {"pci:v00001AF4d00000001sv00001AF4sd00000002bc01sc00i00", {}},
      {"cpu:type:x86,ven0000fam0006mod003F:feature:,0000,0001,0094,00E5", {"crc32c_intel"}},
      {"cpu:type:x86,ven0000fam0006mod003F:feature:,0000,0001,00E5", {}},
      {"pci:v000010DEd00001C82sv00001458sd00003FBEbc03sc00i00", {}},
  });
}

TEST_CASE("names are looked up the way modprobe normalizes them: '-' is '_' outside brackets",
          "[module_table]") {
  check_lookups({
      {"scsi:t-0x00", {"sd_mod"}},
      {"fs-ext4", {"ext4"}},
      {"devname:loop-control", {"loop"}},
      {"block-major-7-0", {"loop"}},
  });
  CHECK(normalize_alias("a-b[x-z]-c") == "a_b[x-z]_c");
}

TEST_CASE("a modalias two modules claim gives both, sorted, each once", "[module_table]") {
  const ModuleTable t = table();
  CHECK(modules_for(t, "usb:v0781p5581d0100dc00dsc00dp00ic08isc06ip50in00") ==
        std::vector<std::string>{"uas", "usb_storage"});
}

TEST_CASE("a module table survives writing and reading unchanged", "[module_table]") {
  const ModuleTable t = table();
  auto again = parse_module_table(format_module_table(t));
  REQUIRE(again);
  CHECK(again->load_paths == t.load_paths);
  REQUIRE(again->aliases.size() == t.aliases.size());
  for (size_t i = 0; i < t.aliases.size(); ++i) {
    CHECK(again->aliases[i].pattern == t.aliases[i].pattern);
    CHECK(again->aliases[i].module == t.aliases[i].module);
  }
  CHECK(t.load_paths.at("ext4") ==
        std::vector<std::string>{"/m/crc16.ko", "/m/crc32c-intel.ko", "/m/ext4.ko"});
}

TEST_CASE("a damaged module table is refused with the line and what to do", "[module_table]") {
  for (const char* bad : {"module ext4\n", "alias fs_ext4\n", "load ext4 /m/ext4.ko\n",
                          "module a /a.ko\nmodule a /b.ko\n", "alias fs_ext4 ext4\n"}) {
    INFO(bad);
    auto parsed = parse_module_table(bad);
    REQUIRE_FALSE(parsed);
    CHECK_THAT(parsed.error().message, Catch::Contains("line"));
    CHECK_THAT(parsed.error().message, Catch::Contains("rebuild the initramfs"));
  }
  CHECK(parse_module_table("\n# nothing\n   \n"));
}

TEST_CASE("the devices' modaliases need each module once, in the order the devices came",
          "[module_table][init]") {
  const ModuleTable t = table();
  const std::vector<std::string> devices{
      "virtio:d00000001v00001AF4",  // a network card: no driver in the table
      "virtio:d00000002v00001AF4", "scsi:t-0x00", "virtio:d00000002v00001AF4",
      "usb:v0781p5581d0100dc00dsc00dp00ic08isc06ip50in00"};
  auto needs = modules_needed(t, devices, {});
  REQUIRE(needs.size() == 4);
  CHECK(needs[0].module == "virtio_blk");
  CHECK(needs[0].reason == "virtio:d00000002v00001AF4");
  CHECK(needs[1].module == "sd_mod");
  CHECK(needs[2].module == "uas");
  CHECK(needs[3].module == "usb_storage");
  CHECK(needs[3].reason == devices[4]);

  // What was loaded (or tried) before is not loaded again.
  auto later = modules_needed(t, devices, {"virtio_blk", "uas"});
  REQUIRE(later.size() == 2);
  CHECK(later[0].module == "sd_mod");
  CHECK(later[1].module == "usb_storage");
}
