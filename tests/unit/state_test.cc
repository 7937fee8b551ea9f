#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>

#include "stage_support.h"
#include "state/state_file.h"
#include "system/fd.h"

using namespace imgroot;
using namespace imgroot::state;
using namespace imgroot::test;

namespace {

ImageRecord sample() {
  ImageRecord r;
  r.inode = 1234;
  r.size = 8 << 20;
  r.mtime_ns = 1767323045123456789;
  r.sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  r.source = "/srv/images/node-2026.11.img";
  r.staged_at = "2026-11-21T20:38:21Z";
  r.assessment = Assessment::kGood;
  r.assessed_at = "2026-11-21T20:40:00Z";
  return r;
}

}  // namespace

TEST_CASE("a state survives the trip to JSON and back unchanged", "[state]") {
  StateFile state;
  state.images.push_back(sample());
  state.images.push_back(ImageRecord{});
  auto back = state_from_json(state_to_json(state));
  REQUIRE(back);
  REQUIRE(back->images.size() == 2);
  const ImageRecord& r = back->images[0];
  CHECK(r.inode == 1234);
  CHECK(r.size == 8 << 20);
  CHECK(r.mtime_ns == 1767323045123456789);
  CHECK(r.sha256 == sample().sha256);
  CHECK(r.source == sample().source);
  CHECK(r.staged_at == sample().staged_at);
  CHECK(r.assessment == Assessment::kGood);
  CHECK(r.assessed_at == sample().assessed_at);
  CHECK(back->images[1].assessment == Assessment::kNone);
  CHECK_FALSE(r.reflinked);
}

TEST_CASE("a reflinked record keeps its flag and its missing hash", "[state]") {
  StateFile state;
  ImageRecord r = sample();
  r.sha256.clear();
  r.reflinked = true;
  state.images.push_back(r);
  auto back = state_from_json(state_to_json(state));
  REQUIRE(back);
  REQUIRE(back->images.size() == 1);
  CHECK(back->images[0].reflinked);
  CHECK(back->images[0].sha256.empty());
  CHECK(back->images[0].staged());
  // A state file written before the flag existed reads as not reflinked.
  auto old = state_from_json(
      R"({"version": 1, "images": [{"inode": 1, "size": 2, "mtime_ns": 3, "sha256": "ab"}]})");
  REQUIRE(old);
  CHECK_FALSE(old->images[0].reflinked);
}

TEST_CASE("a state file that is not JSON is an error, not an empty state", "[state]") {
  auto bad = state_from_json("{\"version\": 1, \"images\": [ {\"inode\": ");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.starts_with("not a valid state file"));
  auto future = state_from_json("{\"version\": 2, \"images\": []}");
  REQUIRE_FALSE(future);
  CHECK(future.error().message == "unsupported version 2");
}

TEST_CASE("a number out of its field's range or not an integer is a corrupt state", "[state]") {
  // Found by fuzzing: too large for an integer, nlohmann reads a double and
  // converts it with undefined behaviour; smaller ones wrapped silently.
  const char* corrupt[] = {
      R"({"version":1,"images":[{"inode":40960000000000000000,"size":1,"mtime_ns":1}]})",
      R"({"version":1e10,"images":[]})",
      R"({"version":4294967297,"images":[]})",
      R"({"version":1.5,"images":[]})",
      R"({"version":1,"images":[{"inode":-1,"size":1,"mtime_ns":1}]})",
      R"({"version":1,"images":[{"inode":1,"size":1.5,"mtime_ns":1}]})",
      R"({"version":1,"images":[{"inode":1,"size":true,"mtime_ns":1}]})",
      R"({"version":1,"images":[{"inode":1,"size":1,"mtime_ns":9223372036854775808}]})",
      R"({"version":1,"images":{"a":{"inode":1,"size":1,"mtime_ns":1}}})",
  };
  for (const char* text : corrupt) {
    INFO(text);
    auto state = state_from_json(text);
    REQUIRE_FALSE(state);
    CHECK(state.error().message.starts_with("not a valid state file"));
  }
  auto edges = state_from_json(
      R"({"version":1,"images":[{"inode":18446744073709551615,"size":0,"mtime_ns":-9223372036854775808}]})");
  REQUIRE(edges);
  REQUIRE(edges->images.size() == 1);
  CHECK(edges->images[0].inode == UINT64_MAX);
  CHECK(edges->images[0].mtime_ns == INT64_MIN);
}

TEST_CASE("a host partition without imgroot/ has an empty state", "[state]") {
  TempDir dir;
  auto fd = Fd::open_dir(dir.path());
  REQUIRE(fd);
  auto state = load_state(fd->get());
  REQUIRE(state);
  CHECK(state->images.empty());
}

TEST_CASE("saved records follow an image by inode and forget files that are gone", "[state]") {
  TempDir dir;
  write_text(dir / "hn-root.img", "current");
  write_text(dir / "elsewhere", "not an image");
  auto fd = Fd::open_dir(dir.path());
  REQUIRE(fd);
  StateFile state;
  state.images.push_back(record_for(stat_of(dir / "hn-root.img")));
  state.images.push_back(record_for(stat_of(dir / "elsewhere")));
  REQUIRE(save_state(fd->get(), state));

  auto loaded = load_state(fd->get());
  REQUIRE(loaded);
  REQUIRE(loaded->images.size() == 1);
  // Renamed as rotation does: the record still describes it.
  REQUIRE(::rename((dir / "hn-root.img").c_str(), (dir / "hn-root-old.img").c_str()) == 0);
  CHECK(loaded->find(stat_of(dir / "hn-root-old.img")) != nullptr);
  CHECK(loaded->find(stat_of(dir / "elsewhere")) == nullptr);
}

TEST_CASE("a file about to become an image keeps its record", "[state]") {
  TempDir dir;
  write_text(dir / ".hn-root-new.img.partial", "copy");
  auto fd = Fd::open_dir(dir.path());
  REQUIRE(fd);
  auto partial = stat_of(dir / ".hn-root-new.img.partial");
  StateFile state;
  state.images.push_back(record_for(partial));
  REQUIRE(save_state(fd->get(), state, partial));
  auto loaded = load_state(fd->get());
  REQUIRE(loaded);
  CHECK(loaded->images.size() == 1);
}
