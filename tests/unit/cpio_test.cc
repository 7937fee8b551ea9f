#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

#include "initramfs/cpio.h"

using namespace imgroot::initramfs;

namespace {

// A reader written from the format description, independent of the writer:
// "070701", 13 fields of 8 hex digits, the name with its NUL padded to a
// multiple of 4 (counting from the header's start), the data padded likewise.
struct Record {
  size_t offset = 0;
  uint32_t ino = 0, mode = 0, uid = 0, gid = 0, nlink = 0, mtime = 0, filesize = 0;
  uint32_t dev_major = 0, dev_minor = 0, rdev_major = 0, rdev_minor = 0, namesize = 0, check = 0;
  std::string name, data;
};

uint32_t hex_field(const std::string& archive, size_t at) {
  uint32_t value = 0;
  for (size_t i = 0; i < 8; ++i) {
    char c = archive.at(at + i);
    REQUIRE(std::isxdigit(static_cast<unsigned char>(c)));
    value = value * 16 + static_cast<uint32_t>(std::stoul(std::string(1, c), nullptr, 16));
  }
  return value;
}

size_t align4(size_t n) { return (n + 3) & ~size_t{3}; }

std::vector<Record> parse_newc(const std::string& archive) {
  std::vector<Record> records;
  size_t pos = 0;
  for (;;) {
    REQUIRE(pos % 4 == 0);
    REQUIRE(archive.size() >= pos + 110);
    REQUIRE(archive.substr(pos, 6) == "070701");
    Record r;
    r.offset = pos;
    uint32_t* fields[] = {&r.ino,       &r.mode,      &r.uid,        &r.gid,        &r.nlink,
                          &r.mtime,     &r.filesize,  &r.dev_major,  &r.dev_minor,  &r.rdev_major,
                          &r.rdev_minor, &r.namesize, &r.check};
    for (size_t i = 0; i < 13; ++i) *fields[i] = hex_field(archive, pos + 6 + 8 * i);
    REQUIRE(r.namesize >= 2);
    r.name = archive.substr(pos + 110, r.namesize - 1);
    REQUIRE(archive.at(pos + 110 + r.namesize - 1) == '\0');
    size_t data_at = align4(pos + 110 + r.namesize);
    for (size_t i = pos + 110 + r.namesize; i < data_at; ++i) REQUIRE(archive.at(i) == '\0');
    r.data = archive.substr(data_at, r.filesize);
    REQUIRE(r.data.size() == r.filesize);
    pos = align4(data_at + r.filesize);
    for (size_t i = data_at + r.filesize; i < pos; ++i) REQUIRE(archive.at(i) == '\0');
    records.push_back(r);
    if (r.name == "TRAILER!!!") break;
  }
  REQUIRE(pos == archive.size());
  return records;
}

const Record& find(const std::vector<Record>& records, const std::string& name) {
  auto it = std::find_if(records.begin(), records.end(),
                         [&](const Record& r) { return r.name == name; });
  REQUIRE(it != records.end());
  return *it;
}

CpioArchive sample() {
  CpioArchive a;
  REQUIRE(a.add_directory("/dev"));
  REQUIRE(a.add_char_device("/dev/console", 0600, 5, 1));
  REQUIRE(a.add_file("/init", "#!init\n", 0755));
  REQUIRE(a.add_file("/etc/imgroot/modules.load", "/lib/modules/x/a.ko\n"));
  REQUIRE(a.add_file("/empty", ""));
  REQUIRE(a.add_symlink("/bin/sh", "busybox"));
  return a;
}

}  // namespace

TEST_CASE("every record has a newc header with aligned name and data, then TRAILER!!!", "[cpio]") {
  auto bytes = sample().serialize(0);
  REQUIRE(bytes);
  auto records = parse_newc(*bytes);
  const Record& trailer = records.back();
  CHECK(trailer.name == "TRAILER!!!");
  CHECK(trailer.ino == 0);
  CHECK(trailer.filesize == 0);
  for (const auto& r : records) {
    CHECK(r.check == 0);
    CHECK(r.dev_major == 0);
    CHECK(r.dev_minor == 0);
    CHECK(r.namesize == r.name.size() + 1);
  }
}

TEST_CASE("files, symlinks, directories and device nodes keep their contents and modes",
          "[cpio]") {
  auto records = parse_newc(*sample().serialize(0));
  const Record& init = find(records, "init");
  CHECK(init.mode == (S_IFREG | 0755));
  CHECK(init.data == "#!init\n");
  CHECK(init.nlink == 1);
  CHECK(find(records, "etc/imgroot/modules.load").data == "/lib/modules/x/a.ko\n");
  CHECK(find(records, "empty").filesize == 0);
  const Record& sh = find(records, "bin/sh");
  CHECK(sh.mode == (S_IFLNK | 0777));
  CHECK(sh.data == "busybox");
  const Record& console = find(records, "dev/console");
  CHECK(console.mode == (S_IFCHR | 0600));
  CHECK(console.rdev_major == 5);
  CHECK(console.rdev_minor == 1);
  CHECK(console.filesize == 0);
  const Record& dev = find(records, "dev");
  CHECK(dev.mode == (S_IFDIR | 0755));
  CHECK(dev.nlink == 2);
}

TEST_CASE("missing parent directories are added, each before its children", "[cpio]") {
  auto records = parse_newc(*sample().serialize(0));
  std::vector<std::string> seen;
  for (const auto& r : records) {
    if (r.name == "TRAILER!!!") continue;
    auto slash = r.name.rfind('/');
    if (slash != std::string::npos) {
      std::string parent = r.name.substr(0, slash);
      CHECK(std::find(seen.begin(), seen.end(), parent) != seen.end());
    }
    seen.push_back(r.name);
  }
  CHECK(find(records, "etc").mode == (S_IFDIR | 0755));
  CHECK(find(records, "etc/imgroot").mode == (S_IFDIR | 0755));
  CHECK(find(records, "bin").mode == (S_IFDIR | 0755));
}

TEST_CASE("inode numbers count up from 1 in path order", "[cpio]") {
  auto records = parse_newc(*sample().serialize(0));
  for (size_t i = 0; i + 1 < records.size(); ++i) {
    CHECK(records[i].ino == i + 1);
    if (i > 0) CHECK(records[i - 1].name < records[i].name);
  }
}

TEST_CASE("every entry carries the given mtime and belongs to root", "[cpio]") {
  for (uint32_t mtime : {0u, 1700000000u}) {
    auto records = parse_newc(*sample().serialize(mtime));
    for (size_t i = 0; i + 1 < records.size(); ++i) {
      CHECK(records[i].mtime == mtime);
      CHECK(records[i].uid == 0);
      CHECK(records[i].gid == 0);
    }
  }
}

TEST_CASE("the same entries added in a different order give the same bytes", "[cpio]") {
  CpioArchive b;
  REQUIRE(b.add_symlink("bin/sh", "busybox"));
  REQUIRE(b.add_file("empty", ""));
  REQUIRE(b.add_file("etc//imgroot/modules.load", "/lib/modules/x/a.ko\n"));
  REQUIRE(b.add_file("init", "#!init\n", 0755));
  REQUIRE(b.add_char_device("dev/console", 0600, 5, 1));
  REQUIRE(b.add_directory("dev/"));
  CHECK(*b.serialize(7) == *sample().serialize(7));
}

TEST_CASE("an explicit directory mode wins over the one of an implied parent", "[cpio]") {
  CpioArchive a;
  REQUIRE(a.add_file("/run/x", "x"));
  REQUIRE(a.add_directory("/run", 0700));
  CHECK(find(parse_newc(*a.serialize(0)), "run").mode == (S_IFDIR | 0700));
}

TEST_CASE("a path added twice must name the same entry", "[cpio]") {
  CpioArchive a;
  REQUIRE(a.add_file("/init", "a"));
  CHECK(a.add_file("/init", "a"));
  auto again = a.add_file("/init", "b");
  REQUIRE_FALSE(again);
  CHECK(again.error().message.find("'/init'") != std::string::npos);
  CHECK_FALSE(a.add_directory("/init"));
  CHECK_FALSE(a.add_file("/init/below", "x"));
}

TEST_CASE("paths that leave the root or name nothing are refused", "[cpio]") {
  CpioArchive a;
  CHECK_FALSE(a.add_file("../etc/passwd", "x"));
  CHECK_FALSE(a.add_file("/a/./b", "x"));
  CHECK_FALSE(a.add_directory("/"));
  CHECK_FALSE(a.add_file("", "x"));
  CHECK_FALSE(a.add_symlink("/bin/sh", ""));
  CHECK(a.size() == 0);
}

TEST_CASE("a path named like the end-of-archive record is refused", "[cpio]") {
  // Found by fuzzing: the kernel stops unpacking at the first record named
  // TRAILER!!!, and it sorts before every lower-case path.
  CpioArchive a;
  for (const char* path : {"TRAILER!!!", "/TRAILER!!!/", "TRAILER!!!/x", "//TRAILER!!!/bin/sh"}) {
    INFO(path);
    auto added = a.add_directory(path);
    REQUIRE_FALSE(added);
    CHECK_THAT(added.error().message, Catch::Contains("end-of-archive"));
  }
  CHECK_FALSE(a.add_file("/TRAILER!!!", "x"));
  CHECK(a.size() == 0);
  // Only the first component names the record; deeper ones are ordinary.
  REQUIRE(a.add_file("/etc/TRAILER!!!", "x"));
  auto records = parse_newc(a.serialize(0).value());
  REQUIRE(records.size() == 3);
  CHECK(records[1].name == "etc/TRAILER!!!");
}

TEST_CASE("a name or symlink target with a NUL byte is refused", "[cpio]") {
  // Found by fuzzing: the kernel reads both as C strings, so "init\0x"
  // would unpack as a second /init and "busybox\0x" link to busybox.
  using namespace std::string_literals;
  CpioArchive a;
  auto name = a.add_file("init\0x"s, "x");
  REQUIRE_FALSE(name);
  CHECK_THAT(name.error().message, Catch::Contains("NUL"));
  CHECK_FALSE(a.add_directory("a\0/b"s));
  auto target = a.add_symlink("/bin/sh", "busybox\0x"s);
  REQUIRE_FALSE(target);
  CHECK_THAT(target.error().message, Catch::Contains("NUL"));
  CHECK(a.size() == 0);
}

TEST_CASE("an entry refused for a parent that is not a directory adds nothing", "[cpio]") {
  // Found by fuzzing: the missing parents below the file were added before
  // the file was found, leaving directories under a regular file.
  CpioArchive a;
  REQUIRE(a.add_file("/sbin", "x"));
  auto below = a.add_file("/sbin/a/b/c", "y");
  REQUIRE_FALSE(below);
  CHECK_THAT(below.error().message, Catch::Contains("'/sbin' is not a directory"));
  CHECK(a.size() == 1);
  CHECK(parse_newc(a.serialize(0).value()).size() == 2);
}
