// lib/net: resolve() and to_url() (pure), get() and get_ranges() on
// file:// (no server; the nginx cases are fetch.http_transport, in
// tests/fetch/).
#include <catch2/catch.hpp>

#include <csignal>
#include <random>
#include <vector>

#include "fetch_support.h"
#include "net/http.h"
#include "test_support.h"

using namespace imgroot;
using namespace imgroot::test;

namespace {

// Fast failures: nothing here is worth retrying for long.
net::FetchPolicy quick_policy() {
  net::FetchPolicy p;
  p.give_up_after_s = 2;
  p.stall_seconds = 2;
  return p;
}

}  // namespace

TEST_CASE("references resolve as the examples of RFC 3986 section 5.4 say", "[http]") {
  const std::string base = "http://a/b/c/d;p?q";
  const std::vector<std::pair<std::string, std::string>> examples = {
      // 5.4.1 normal
      {"g:h", "g:h"}, {"g", "http://a/b/c/g"}, {"./g", "http://a/b/c/g"},
      {"g/", "http://a/b/c/g/"}, {"/g", "http://a/g"}, {"//g", "http://g"},
      {"?y", "http://a/b/c/d;p?y"}, {"g?y", "http://a/b/c/g?y"}, {"#s", "http://a/b/c/d;p?q#s"},
      {"g#s", "http://a/b/c/g#s"}, {"g?y#s", "http://a/b/c/g?y#s"}, {";x", "http://a/b/c/;x"},
      {"g;x", "http://a/b/c/g;x"}, {"g;x?y#s", "http://a/b/c/g;x?y#s"}, {"", "http://a/b/c/d;p?q"},
      {".", "http://a/b/c/"}, {"./", "http://a/b/c/"}, {"..", "http://a/b/"},
      {"../", "http://a/b/"}, {"../g", "http://a/b/g"}, {"../..", "http://a/"},
      {"../../", "http://a/"}, {"../../g", "http://a/g"},
      // 5.4.2 abnormal
      {"../../../g", "http://a/g"}, {"../../../../g", "http://a/g"}, {"/./g", "http://a/g"},
      {"/../g", "http://a/g"}, {"g.", "http://a/b/c/g."}, {".g", "http://a/b/c/.g"},
      {"g..", "http://a/b/c/g.."}, {"..g", "http://a/b/c/..g"}, {"./../g", "http://a/b/g"},
      {"./g/.", "http://a/b/c/g/"}, {"g/./h", "http://a/b/c/g/h"}, {"g/../h", "http://a/b/c/h"},
      {"g;x=1/./y", "http://a/b/c/g;x=1/y"}, {"g;x=1/../y", "http://a/b/c/y"},
      {"g?y/./x", "http://a/b/c/g?y/./x"}, {"g?y/../x", "http://a/b/c/g?y/../x"},
      {"g#s/./x", "http://a/b/c/g#s/./x"}, {"g#s/../x", "http://a/b/c/g#s/../x"},
      {"http:g", "http:g"},
  };
  for (const auto& [relative, expected] : examples) {
    INFO("reference '" << relative << "'");
    CHECK(net::resolve(base, relative) == expected);
  }
}

TEST_CASE("a release's references resolve against channel and manifest URLs", "[http]") {
  CHECK(net::resolve("http://127.0.0.1:8080/r/channels/stable", "../os/7/manifest.json") ==
        "http://127.0.0.1:8080/r/os/7/manifest.json");
  CHECK(net::resolve("file:///srv/r/os/7/manifest.json", "../../chunks/ab/cd") ==
        "file:///srv/r/chunks/ab/cd");
  CHECK(net::resolve("https://h/r/manifest.json", "https://mirror/r/index") ==
        "https://mirror/r/index");
}

TEST_CASE("references against a plain path give a plain path, decoded", "[http]") {
  CHECK(net::resolve("/srv/r/channels/stable", "../os/7/manifest.json") ==
        "/srv/r/os/7/manifest.json");
  CHECK(net::resolve("/srv/r/manifest.json", "chunks/ab/cd") == "/srv/r/chunks/ab/cd");
  CHECK(net::resolve("/srv/r/manifest.json", "/other/x") == "/other/x");
  CHECK(net::resolve("/srv/r/manifest.json", "../../../../x") == "/x");
  CHECK(net::resolve("/srv/r/manifest.json", "a%20b") == "/srv/r/a b");
  CHECK(net::resolve("/srv/r/manifest.json", "http://h/x") == "http://h/x");
  // A relative base keeps the ".." that climbs out of it.
  CHECK(net::resolve("r/channels/stable", "../../../up.json") == "../up.json");
  CHECK(net::resolve("manifest.json", "chunks/x") == "chunks/x");
}

TEST_CASE("a local path becomes an absolute file URL, percent-encoded", "[http]") {
  CHECK(net::to_url("/tmp/a b#c?d%e") == "file:///tmp/a%20b%23c%3Fd%25e");
  CHECK(net::to_url("/srv/r/../x") == "file:///srv/x");
  CHECK(net::to_url("http://h/x") == "http://h/x");
  CHECK(net::to_url("file:///x") == "file:///x");
  const std::string cwd = std::filesystem::current_path().string();
  CHECK(net::to_url("rel/x") == net::to_url(cwd + "/rel/x"));
}

TEST_CASE("a whole local file is read through file:// and through its plain path", "[http]") {
  TempDir dir;
  const std::string content = random_bytes(300000, 1);
  const std::string path = dir.write("manifest with space.json", content);
  std::uint64_t reported = 0;
  net::FetchPolicy policy = quick_policy();
  policy.on_bytes = [&](std::uint64_t bytes) { reported = bytes; };

  auto by_path = net::get(path, policy);
  REQUIRE(by_path);
  CHECK(*by_path == content);
  CHECK(reported == content.size());

  auto by_url = net::get(net::to_url(path), policy);
  REQUIRE(by_url);
  CHECK(*by_url == content);
}

TEST_CASE("a missing local file is ENOENT naming it", "[http]") {
  TempDir dir;
  auto got = net::get(dir / "absent.json", quick_policy());
  REQUIRE_FALSE(got);
  CHECK(got.error().code == ENOENT);
  CHECK_THAT(got.error().message, Catch::Contains(dir / "absent.json"));
  CHECK_THAT(got.error().message, Catch::Contains("No such file or directory"));
}

TEST_CASE("a whole resource larger than max_whole_size is refused", "[http]") {
  TempDir dir;
  const std::string path = dir.write("big", random_bytes(5000, 2));
  net::FetchPolicy policy = quick_policy();
  policy.max_whole_size = 4096;
  auto got = net::get(path, policy);
  REQUIRE_FALSE(got);
  CHECK_THAT(got.error().message, Catch::Contains("larger than 4096 bytes"));
}

TEST_CASE("ranges of a local file arrive whole, each once, equal to the file's bytes", "[http]") {
  TempDir dir;
  const std::string content = random_bytes(1 << 20, 3);
  const std::string path = dir.write("image.chunks", content);
  std::vector<net::RangeRequest> ranges;
  std::mt19937 rng(4);
  std::uint64_t total = 0;
  for (int i = 0; i < 40; ++i) {
    std::uint64_t offset = rng() % content.size();
    std::uint64_t length = 1 + rng() % std::min<std::uint64_t>(70000, content.size() - offset);
    ranges.push_back({i % 2 ? path : net::to_url(path), offset, length});
    total += length;
  }
  ranges.push_back({path, content.size() - 1, 1});  // the last byte
  total += 1;

  net::FetchPolicy policy = quick_policy();
  policy.max_in_flight = 3;
  auto fetched = fetch_checked(ranges, content, policy);
  REQUIRE(fetched.status);
  for (int n : fetched.calls) CHECK(n == 1);
  CHECK(fetched.reported == total);
}

TEST_CASE("a range past the end of a local file says the file is shorter than asked", "[http]") {
  TempDir dir;
  const std::string path = dir.write("short", random_bytes(1000, 5));
  for (std::uint64_t offset : {900u, 1000u, 5000u}) {
    INFO("offset " << offset);
    std::vector<net::RangeRequest> ranges = {{path, offset, 200}};
    auto ok = net::get_ranges(ranges, quick_policy(),
                              [](std::size_t, std::string_view) -> Status { return {}; });
    REQUIRE_FALSE(ok);
    CHECK_THAT(ok.error().message, Catch::Contains(path));
    CHECK_THAT(ok.error().message, Catch::Contains("shorter"));
  }
}

TEST_CASE("an error from on_range stops the fetch and is returned as it is", "[http]") {
  TempDir dir;
  const std::string path = dir.write("data", random_bytes(100000, 6));
  std::vector<net::RangeRequest> ranges;
  for (std::uint64_t i = 0; i < 20; ++i) ranges.push_back({path, i * 5000, 5000});
  int calls = 0;
  net::FetchPolicy policy = quick_policy();
  policy.max_in_flight = 1;
  auto ok = net::get_ranges(ranges, policy, [&](std::size_t, std::string_view) -> Status {
    ++calls;
    return std::unexpected(Error{ENOSPC, "write 'partial': No space left on device"});
  });
  REQUIRE_FALSE(ok);
  CHECK(ok.error().code == ENOSPC);
  CHECK(ok.error().message == "write 'partial': No space left on device");
  CHECK(calls == 1);
}

TEST_CASE("a set cancel flag stops a fetch with ECANCELED", "[http]") {
  TempDir dir;
  const std::string path = dir.write("data", "x");
  volatile std::sig_atomic_t stop = 1;
  net::FetchPolicy policy = quick_policy();
  policy.cancel = &stop;
  auto got = net::get(path, policy);
  REQUIRE_FALSE(got);
  CHECK(got.error().code == ECANCELED);
  CHECK_THAT(got.error().message, Catch::Contains("interrupted"));
}

TEST_CASE("a range of zero bytes is refused before anything is fetched", "[http]") {
  std::vector<net::RangeRequest> ranges = {{"/nonexistent", 0, 0}};
  int calls = 0;
  auto ok = net::get_ranges(ranges, quick_policy(), [&](std::size_t, std::string_view) -> Status {
    ++calls;
    return {};
  });
  REQUIRE_FALSE(ok);
  CHECK_THAT(ok.error().message, Catch::Contains("bad range of 0 bytes"));
  CHECK(calls == 0);
}
