// Releases: the manifest, the index, publishing and assembling an image on a
// host partition from local images and file:// frames.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "base/layout.h"
#include "compress/zstd.h"
#include "release/fetch.h"
#include "release/index.h"
#include "release/manifest.h"
#include "release/publish.h"
#include "stage_support.h"
#include "system/fd.h"

using namespace imgroot;
using namespace imgroot::release;
using namespace imgroot::test;
namespace fs = std::filesystem;

namespace {

Manifest sample_manifest() {
  Manifest m;
  m.name = "hn-root";
  m.version = 7;
  m.created = "2026-11-30T00:00:00Z";
  m.filesystem = "ext4";
  m.image_size = 8 << 20;
  m.image_sha256 = std::string(64, 'a');
  m.block_size = 4096;
  m.frame_bytes = 1 << 20;
  m.index_path = "index.zst";
  m.index_size = 1234;
  m.index_sha256 = std::string(64, 'b');
  return m;
}

Index sample_index() {
  Index index;
  index.block_size = 4096;
  index.image_size = 16 * 4096;
  index.packs.push_back(Digest{1});
  index.frames.push_back({0, 0, 100, 4, Digest{2}});
  index.frames.push_back({0, 100, 50, 2, Digest{3}});
  index.runs.push_back({1, {{BlockHash{9}, 0, 0}, {BlockHash{8}, 0, 3}}});
  index.runs.push_back({10, {{BlockHash{7}, 1, 1}}});
  return index;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string sha256_of(const std::string& path) {
  const std::string b = file_bytes(path);
  return hex(sha256_digest({reinterpret_cast<const unsigned char*>(b.data()), b.size()}));
}

// Bytes that do not compress and repeat no block.
std::string noise(std::size_t size, std::uint64_t seed) {
  std::string s(size, '\0');
  for (auto& c : s) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    c = static_cast<char>(seed >> 56);
  }
  return s;
}

// The offset of 'size' bytes of 'image' in which no 4 KiB block is zeros.
std::uint64_t data_region(const std::string& image, std::size_t size) {
  const std::string b = file_bytes(image);
  const std::string zeros(4096, '\0');
  for (std::size_t at = 0; at + size <= b.size(); at += 4096) {
    bool data = true;
    for (std::size_t k = 0; k < size && data; k += 4096) data = b.compare(at + k, 4096, zeros) != 0;
    if (data) return at;
  }
  FAIL("no data region in " + image);
  return 0;
}

// Image A, and B: A with one more file and one changed.
struct TwoImages {
  TempDir tmp;
  std::string a = tmp / "a.img", b = tmp / "b.img";
  TwoImages() {
    make_ext4_image(a, tmp / "root",
                    {{"sbin/init", "x:#!/bin/sh\n"},
                     {"boot/vmlinuz", "kernel"},
                     {"boot/kernel", "->/boot/vmlinuz"},
                     {"boot/initramfs", "initramfs"},
                     {"usr/lib/big", noise(3 << 20, 1)},
                     {"etc/config", "one\n"}},
                    "16M");
    make_ext4_image(b, tmp / "root",
                    {{"etc/config", "two\n"}, {"usr/lib/new", noise(300 << 10, 2)}}, "16M");
  }
};

Published publish(const std::string& image, const std::string& dir,
                  std::optional<std::uint64_t> version = {}, std::optional<std::string> channel = {}) {
  PublishRequest r;
  r.image = image;
  r.dir = dir;
  r.name = "hn-root";
  r.version = version;
  r.channel = channel;
  r.level = 3;
  r.created = 1764460800;
  auto p = publish_release(r);
  if (!p) FAIL(p.error().message);
  return *p;
}

// A host partition (a directory) holding 'current' as hn-root.img.
struct Hostpart {
  TempDir dir;
  Fd fd;
  explicit Hostpart(const std::string& current = "") {
    if (!current.empty()) fs::copy_file(current, dir / host_files::kCurrent);
    fd = Fd(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  std::string part() const { return dir / (std::string(host_files::kFetchDir) + "/image.part"); }
};

Result<Fetched> fetch(const Hostpart& h, const std::string& url) {
  FetchRequest r;
  r.url = url;
  r.give_up_after_s = 1;
  auto got = fetch_release(h.fd.get(), r);
  if (!got) UNSCOPED_INFO(got.error().message);
  return got;
}

}  // namespace

TEST_CASE("a manifest reads back as it was written", "[release]") {
  const Manifest m = sample_manifest();
  auto back = parse_manifest(manifest_json(m), "m");
  REQUIRE(back);
  CHECK(manifest_json(*back) == manifest_json(m));
  CHECK(back->release() == "hn-root-7");
}

TEST_CASE("a manifest that lies about its shape is refused with the reason", "[release]") {
  auto refused = [](auto change, const std::string& why) {
    Manifest m = sample_manifest();
    change(m);
    auto r = parse_manifest(manifest_json(m), "m");
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains(why));
  };
  refused([](Manifest& m) { m.name = "../etc"; }, "not a release name");
  refused([](Manifest& m) { m.version = 0; }, "version 0");
  refused([](Manifest& m) { m.image_sha256 = "xyz"; }, "sha256");
  refused([](Manifest& m) { m.index_path = "../../secret"; }, "leaves the release directory");
  refused([](Manifest& m) { m.block_size = 3000; }, "power of two");
  refused([](Manifest& m) { m.frame_bytes = 5000; }, "multiple of the block size");
  auto foreign = parse_manifest(R"({"format": "other-9"})", "m");
  REQUIRE_FALSE(foreign);
  CHECK_THAT(foreign.error().message, Catch::Contains("is not imgroot-release-1"));
  CHECK_FALSE(parse_manifest("not json", "m"));
}

TEST_CASE("a channel names a manifest inside the release directory only", "[release]") {
  auto path = parse_channel(channel_json("../releases/hn-root-3/manifest.json"), "c");
  REQUIRE(path);
  CHECK(*path == "../releases/hn-root-3/manifest.json");
  CHECK(looks_like_channel(channel_json("x/manifest.json")));
  CHECK_FALSE(looks_like_channel(manifest_json(sample_manifest())));
  CHECK_FALSE(parse_channel(channel_json("../../../etc/passwd"), "c"));
  CHECK_FALSE(parse_channel(channel_json("/etc/passwd"), "c"));
}

TEST_CASE("an index reads back as it was written", "[release]") {
  const Index index = sample_index();
  const std::string bytes = encode_index(index);
  auto back = decode_index(bytes, "i");
  REQUIRE(back);
  CHECK(encode_index(*back) == bytes);
  CHECK(back->runs[1].blocks[0].slot == 1);
}

TEST_CASE("a damaged index is refused, never trusted", "[release]") {
  const std::string good = encode_index(sample_index());
  auto refused = [](const std::string& bytes) {
    auto r = decode_index(bytes, "i");
    if (r) return false;
    CHECK_THAT(r.error().message, Catch::Contains("damaged or foreign index"));
    return true;
  };
  CHECK(refused(good.substr(0, good.size() - 1)));  // truncated
  CHECK(refused(good + "x"));                        // trailing
  CHECK(refused("IMGRIDX2" + good.substr(8)));       // foreign
  Index bad_slot = sample_index();
  bad_slot.runs[0].blocks[1].slot = 4;  // the frame holds 4 blocks: 0-3
  CHECK(refused(encode_index(bad_slot)));
  Index bad_pack = sample_index();
  bad_pack.frames[1].pack = 1;
  CHECK(refused(encode_index(bad_pack)));
  Index overlap = sample_index();
  overlap.runs[1].first = 2;  // inside run 0
  CHECK(refused(encode_index(overlap)));
  Index outside = sample_index();
  outside.runs[1].first = 16;  // the image has blocks 0-15
  CHECK(refused(encode_index(outside)));
  // A count claiming more entries than bytes is refused before any allocation.
  std::string huge = good;
  huge[28] = huge[29] = huge[30] = huge[31] = '\xff';  // the frame count
  CHECK(refused(huge));
}

TEST_CASE("publishing writes a release a second one shares its blocks with", "[release]") {
  TwoImages images;
  TempDir out;
  const std::string dir = out / "site";
  auto first = publish(images.a, dir);
  CHECK(first.manifest.version == 1);
  CHECK(first.manifest.image_sha256 == sha256_of(images.a));
  CHECK(first.manifest.filesystem == "ext4");
  CHECK(first.blocks_new > 0);
  CHECK(first.blocks_zero > first.blocks_new);  // mostly empty: zeros are not stored
  CHECK(exists(dir + "/releases/hn-root-1/manifest.json"));
  CHECK(exists(dir + "/releases/hn-root-1/index.zst"));

  auto second = publish(images.b, dir, {}, "stable");
  CHECK(second.manifest.version == 2);
  // The 3 MiB file and the rest of A's blocks are found in release 1.
  CHECK(second.blocks_known * 4096 > (3u << 20));
  CHECK(second.blocks_new * 4096 < (1u << 20));
  CHECK(read_text(dir + "/channels/stable").find("../releases/hn-root-2/manifest.json") !=
        std::string::npos);
  int packs = 0;
  for (const auto& e : fs::directory_iterator(dir + "/packs")) packs += e.path().extension() == ".pack";
  CHECK(packs == 2);
}

TEST_CASE("publishing is reproducible and a release never changes", "[release]") {
  TwoImages images;
  TempDir out;
  publish(images.a, out / "one");
  publish(images.a, out / "two");
  for (const auto& e : fs::recursive_directory_iterator(out / "one")) {
    if (!e.is_regular_file() || e.path().filename().string().starts_with(".")) continue;
    const auto rel = fs::relative(e.path(), out / "one").string();
    INFO(rel);
    CHECK(file_bytes(e.path()) == file_bytes(out / ("two/" + rel)));
  }
  auto again = publish(images.a, out / "one", 1);
  CHECK(again.already);
  PublishRequest other{images.b, out / "one", "hn-root", 1, {}, 4096, 1 << 20, 3, 1764460800, {}, {}};
  auto refused = publish_release(other);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message, Catch::Contains("already published with other content"));
  publish(images.b, out / "one", 5);
  other.version = 4;
  auto down = publish_release(other);
  REQUIRE_FALSE(down);
  CHECK_THAT(down.error().message, Catch::Contains("versions only go up"));
}

TEST_CASE("a node with the previous image fetches only what changed", "[release]") {
  TwoImages images;
  TempDir out;
  const std::string dir = out / "site";
  publish(images.a, dir);
  publish(images.b, dir, {}, "stable");
  Hostpart node(images.a);

  auto got = fetch(node, "file://" + dir + "/channels/stable");
  REQUIRE(got);
  CHECK(got->manifest.version == 2);
  CHECK(file_bytes(node.part()) == file_bytes(images.b));
  CHECK(got->counts.reused > (3u << 20));
  CHECK(got->counts.fetched < (1u << 20));
  CHECK(got->counts.fetched > 0);
  // Zeros are never written: the assembled image stays sparse.
  CHECK(static_cast<std::uint64_t>(stat_of(node.part()).st_blocks) * 512 < (8u << 20));
  CHECK_FALSE(exists(node.dir / host_files::kNew));
}

TEST_CASE("a node with nothing fetches the whole release from a plain directory", "[release]") {
  TwoImages images;
  TempDir out;
  publish(images.a, out / "site");
  Hostpart node;
  auto got = fetch(node, out / "site/releases/hn-root-1");
  REQUIRE(got);
  CHECK(got->counts.reused == 0);
  CHECK(file_bytes(node.part()) == file_bytes(images.a));
}

TEST_CASE("an interrupted download keeps every block it checked", "[release]") {
  TwoImages images;
  TempDir out;
  publish(images.a, out / "site");
  Hostpart node;
  REQUIRE(fetch(node, out / "site/releases/hn-root-1"));
  // As if cut short: the marker of a finished download gone, and blocks
  // the kernel never wrote (zeros where data belongs, garbage).
  REQUIRE(::unlink((node.dir / (std::string(host_files::kFetchDir) + "/complete")).c_str()) == 0);
  {
    Fd part(::open(node.part().c_str(), O_RDWR | O_CLOEXEC));
    const std::string garbage(64 << 10, 'g');
    const auto at = static_cast<off_t>(data_region(images.a, garbage.size()));
    REQUIRE(::pwrite(part.get(), garbage.data(), garbage.size(), at) == 64 << 10);
  }
  auto again = fetch(node, out / "site/releases/hn-root-1");
  REQUIRE(again);
  CHECK(again->counts.resumed > 0);
  CHECK(again->counts.fetched == (64u << 10));
  CHECK(file_bytes(node.part()) == file_bytes(images.a));
}

TEST_CASE("a damaged chunk on the server is refused with the reason", "[release]") {
  TwoImages images;
  TempDir out;
  publish(images.a, out / "site");
  for (const auto& e : fs::directory_iterator(out / "site/packs")) {
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x5a');
  }
  Hostpart node;
  auto got = fetch(node, out / "site/releases/hn-root-1");
  REQUIRE_FALSE(got);
  CHECK_THAT(got.error().message, Catch::Contains("does not match the release's index"));
  CHECK_FALSE(exists(node.dir / host_files::kNew));
}

TEST_CASE("an index that does not match its manifest is refused", "[release]") {
  TwoImages images;
  TempDir out;
  publish(images.a, out / "site");
  write_text(out / "site/releases/hn-root-1/index.zst", "not the index");
  Hostpart node;
  auto got = fetch(node, out / "site/releases/hn-root-1");
  REQUIRE_FALSE(got);
  CHECK_THAT(got.error().message, Catch::Contains("does not match its manifest"));
}

TEST_CASE("a release that is not there is reported as missing", "[release]") {
  TempDir out;
  Hostpart node;
  auto got = fetch(node, "file://" + out.path() + "/releases/nope/manifest.json");
  REQUIRE_FALSE(got);
  CHECK_THAT(got.error().message, Catch::Contains("nope/manifest.json"));
}

TEST_CASE("a stage argument names a release or an image", "[release]") {
  TwoImages images;
  TempDir out;
  publish(images.a, out / "site");
  CHECK(names_release("http://127.0.0.1:1/x/manifest.json"));
  CHECK(names_release(out / "site/releases/hn-root-1"));
  CHECK(names_release(out / "site/releases/hn-root-1/manifest.json"));
  CHECK_FALSE(names_release(images.a));
  CHECK_FALSE(names_release(out / "missing.img"));
}

TEST_CASE("zstd refuses to inflate past its limit", "[release]") {
  auto packed = compress_zstd(std::string(1 << 20, 'z'), 3);
  REQUIRE(packed);
  CHECK(decompress_zstd(*packed, 1 << 20, "x"));
  auto over = decompress_zstd(*packed, 1000, "x");
  REQUIRE_FALSE(over);
  CHECK_THAT(over.error().message, Catch::Contains("more than 1000 bytes"));
  CHECK_FALSE(decompress_zstd(packed->substr(0, packed->size() / 2), 1 << 20, "x"));
}
