// fetch.http_transport: lib/net against a real nginx on 127.0.0.1, started
// and stopped by each test through tests/fetch/nginx.sh with the locations
// of http_transport.conf.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "fetch_support.h"
#include "net/http.h"
#include "test_support.h"

using namespace imgroot;
using namespace imgroot::test;
using Clock = std::chrono::steady_clock;

namespace {

// nginx serving one file from a directory of its own, started by the
// constructor and stopped with the object.
class Nginx {
 public:
  Nginx(const std::string& name, const std::string& content)
      : state_(dir_ / "nginx"), www_(dir_ / "www") {
    std::filesystem::create_directories(www_);
    write_text(www_ + "/" + name, content);
    auto r = run(script("start") + " " + shell_quote(www_) + " " + shell_quote(IMGROOT_FETCH_CONF));
    if (r.status != 0) throw std::runtime_error("nginx.sh start failed: " + r.output);
    port_ = r.output.substr(0, r.output.find('\n'));
  }
  ~Nginx() { (void)run(script("stop")); }  // best effort; a failure shows in the test's result
  Nginx(const Nginx&) = delete;
  Nginx& operator=(const Nginx&) = delete;

  // Stop, or start again on the same port; the nginx.sh result.
  Ran stop() const { return run(script("stop")); }
  Ran start_again() const { return run(script("start")); }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + port_ + "/" + path;
  }
  // The access log: one line a request (format in nginx.sh).
  std::vector<std::string> requests() const {
    std::vector<std::string> lines;
    std::istringstream in(read_text(state_ + "/access.log"));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

 private:
  std::string script(const std::string& verb) const {
    return shell_quote(IMGROOT_NGINX_SH) + " " + verb + " " + shell_quote(state_);
  }
  TempDir dir_;
  std::string state_;
  std::string www_;
  std::string port_;
};

std::vector<std::string> matching(const std::vector<std::string>& lines, const std::string& what) {
  std::vector<std::string> out;
  for (const auto& l : lines) {
    if (l.find(what) != std::string::npos) out.push_back(l);
  }
  return out;
}

net::FetchPolicy quick_policy() {
  net::FetchPolicy p;
  p.connect_timeout_s = 2;
  p.stall_seconds = 2;
  p.give_up_after_s = 10;
  return p;
}

Status ignore_range(std::size_t, std::string_view) { return {}; }

}  // namespace

TEST_CASE("a whole file comes over HTTP with imgroot's User-Agent", "[http_transport]") {
  const std::string content = random_bytes(3 << 20, 1);
  Nginx nginx("manifest.json", content);
  auto got = net::get(nginx.url("manifest.json"), quick_policy());
  REQUIRE(got);
  CHECK(*got == content);
  REQUIRE(nginx.stop().status == 0);
  auto log = nginx.requests();
  REQUIRE(log.size() == 1);
  CHECK_THAT(log[0], Catch::StartsWith("200 \"GET /manifest.json HTTP/1.1\" range=\"-\""));
  CHECK_THAT(log[0], Catch::Contains("agent=\"imgroot/" IMGROOT_VERSION "\""));
}

TEST_CASE("many ranges arrive whole and right over a few keep-alive connections",
          "[http_transport]") {
  const std::string content = random_bytes(8 << 20, 2);
  Nginx nginx("image.chunks", content);

  // The file in 64 pieces of 128 KiB, asked for in a shuffled order, and
  // a few short ones that cross their borders.
  std::vector<net::RangeRequest> ranges;
  constexpr std::uint64_t kPiece = 128 << 10;
  for (std::uint64_t off = 0; off < content.size(); off += kPiece) {
    ranges.push_back({nginx.url("image.chunks"), off, kPiece});
  }
  std::mt19937 rng(3);
  std::shuffle(ranges.begin(), ranges.end(), rng);
  for (std::uint64_t off : {kPiece - 10, 5 * kPiece - 1, content.size() - 100}) {
    ranges.push_back({nginx.url("image.chunks"), off, 100});
  }

  net::FetchPolicy policy = quick_policy();
  policy.max_in_flight = 4;
  auto fetched = fetch_checked(ranges, content, policy);
  REQUIRE(fetched.status);
  for (int n : fetched.calls) CHECK(n == 1);
  CHECK(fetched.reported == content.size() + 300);

  REQUIRE(nginx.stop().status == 0);
  auto log = nginx.requests();
  CHECK(log.size() == ranges.size());
  CHECK(matching(log, "206 \"GET /image.chunks").size() == ranges.size());
  std::set<std::string> connections;
  std::regex conn(" conn=([0-9]+) ");
  for (const auto& line : log) {
    std::smatch m;
    if (std::regex_search(line, m, conn)) connections.insert(m[1]);
  }
  INFO("connections used: " << connections.size());
  CHECK(connections.size() >= 2);  // several in flight
  CHECK(connections.size() <= 4);  // and each one kept alive for the next ranges
}

TEST_CASE("a missing file is ENOENT naming the URL, and is not retried", "[http_transport]") {
  Nginx nginx("present", "x");
  const std::string url = nginx.url("releases/absent/manifest.json");
  auto got = net::get(url, quick_policy());
  REQUIRE_FALSE(got);
  CHECK(got.error().code == ENOENT);
  CHECK_THAT(got.error().message, Catch::Contains("fetch '" + url + "': HTTP 404 Not Found"));
  CHECK_THAT(got.error().message, Catch::Contains("check the URL"));

  std::vector<net::RangeRequest> ranges = {{nginx.url("chunks/absent"), 0, 10}};
  auto ok = net::get_ranges(ranges, quick_policy(), ignore_range);
  REQUIRE_FALSE(ok);
  CHECK(ok.error().code == ENOENT);
  CHECK_THAT(ok.error().message, Catch::Contains(nginx.url("chunks/absent")));

  REQUIRE(nginx.stop().status == 0);
  CHECK(matching(nginx.requests(), "404 ").size() == 2);
}

TEST_CASE("a forbidden file is EACCES at once, not retried", "[http_transport]") {
  Nginx nginx("x", "x");
  auto got = net::get(nginx.url("forbidden/x"), quick_policy());
  REQUIRE_FALSE(got);
  CHECK(got.error().code == EACCES);
  CHECK_THAT(got.error().message, Catch::Contains("HTTP 403 Forbidden"));
  REQUIRE(nginx.stop().status == 0);
  CHECK(nginx.requests().size() == 1);
}

TEST_CASE("a server stopped in the middle and started again on its port: the ranges complete, "
          "cut ones resumed where they stopped",
          "[http_transport]") {
  const std::string content = random_bytes(4 << 20, 4);
  Nginx nginx("image.chunks", content);
  constexpr std::uint64_t kPiece = 512 << 10;
  std::vector<net::RangeRequest> ranges;
  for (std::uint64_t off = 0; off < content.size(); off += kPiece) {
    ranges.push_back({nginx.url("paced/image.chunks"), off, kPiece});
  }

  // Once the first 4 pieces are whole and some of the next 4 has come
  // (more bytes than the whole pieces hold), stop the server; start it
  // again a second later. nginx sends a paced range in bursts a second
  // apart, so the ranges on their way are cut.
  bool stopped = false;
  Ran stop_result, start_result;
  std::thread restarter;
  std::uint64_t reported = 0;
  std::uint64_t whole_pieces = 0;
  net::FetchPolicy policy = quick_policy();
  policy.on_bytes = [&](std::uint64_t bytes) {
    reported = bytes;
    if (stopped || whole_pieces < 4 || bytes <= whole_pieces * kPiece) return;
    stopped = true;
    stop_result = nginx.stop();
    restarter = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      start_result = nginx.start_again();
    });
  };
  std::string assembled(content.size(), '\0');
  const auto started = Clock::now();
  auto ok = net::get_ranges(ranges, policy, [&](std::size_t i, std::string_view bytes) -> Status {
    assembled.replace(ranges[i].offset, bytes.size(), bytes);
    ++whole_pieces;
    return {};
  });
  const auto elapsed = Clock::now() - started;
  if (restarter.joinable()) restarter.join();
  REQUIRE(stopped);
  CHECK(stop_result.status == 0);
  CHECK(start_result.status == 0);
  REQUIRE(ok);
  CHECK(assembled == content);
  CHECK(elapsed >= std::chrono::seconds(1));
  // Nothing came twice: the cut ranges went on from their last byte.
  CHECK(reported == content.size());

  REQUIRE(nginx.stop().status == 0);
  // Two servers answered (the worker's pid), and one range was asked for
  // from a byte inside a piece: a resumed one.
  const auto log = nginx.requests();
  std::string joined;
  for (const auto& line : log) joined += line + "\n";
  INFO("requests:\n" << joined);
  std::regex fields("range=\"bytes=([0-9]+)-.* pid=([0-9]+) ");
  int resumed = 0;
  std::set<std::string> workers;
  for (const auto& line : log) {
    std::smatch m;
    if (!std::regex_search(line, m, fields)) continue;
    if (std::stoull(m[1]) % kPiece != 0) ++resumed;
    workers.insert(m[2]);
  }
  CHECK(resumed >= 1);
  CHECK(workers.size() == 2);
}

TEST_CASE("a stalled transfer is retried, then fails after give_up_after_s saying so",
          "[http_transport]") {
  Nginx nginx("image.chunks", random_bytes(1 << 20, 5));
  const std::string url = nginx.url("slow/image.chunks");
  std::vector<net::RangeRequest> ranges = {{url, 0, 512 << 10}};
  net::FetchPolicy policy = quick_policy();
  policy.stall_seconds = 1;
  policy.give_up_after_s = 3;
  const auto started = Clock::now();
  auto ok = net::get_ranges(ranges, policy, ignore_range);
  const auto elapsed = Clock::now() - started;
  REQUIRE_FALSE(ok);
  CHECK(ok.error().code == ETIMEDOUT);
  CHECK_THAT(ok.error().message, Catch::StartsWith("fetch '" + url + "' bytes 0-524287: "));
  CHECK_THAT(ok.error().message, Catch::Contains("stalled: less than 1 KiB/s for 1 s"));
  CHECK_THAT(ok.error().message,
             Catch::EndsWith("(retried for 3 s): check the server and run the same command "
                             "again: what was fetched is kept"));
  CHECK(elapsed >= std::chrono::seconds(3));
  CHECK(elapsed < std::chrono::seconds(15));
  REQUIRE(nginx.stop().status == 0);
  CHECK(matching(nginx.requests(), "GET /slow/image.chunks").size() >= 2);
}

TEST_CASE("HTTP 503 is retried with backoff until give_up_after_s", "[http_transport]") {
  Nginx nginx("x", "x");
  const std::string url = nginx.url("unavailable/manifest.json");
  net::FetchPolicy policy = quick_policy();
  policy.give_up_after_s = 2;
  const auto started = Clock::now();
  auto got = net::get(url, policy);
  const auto elapsed = Clock::now() - started;
  REQUIRE_FALSE(got);
  CHECK(got.error().message ==
        "fetch '" + url + "': HTTP 503 Service Unavailable (retried for 2 s): check the server "
        "and run the same command again: what was fetched is kept");
  CHECK(elapsed >= std::chrono::seconds(2));
  REQUIRE(nginx.stop().status == 0);
  // Backoff 0.5 s, 1 s, then the last try at the limit: a few, not a flood.
  auto tries = nginx.requests().size();
  CHECK(tries >= 3);
  CHECK(tries <= 5);
}

TEST_CASE("a server that ignores Range requests is named as such", "[http_transport]") {
  const std::string content = random_bytes(1 << 20, 6);
  Nginx nginx("image.chunks", content);
  const std::string url = nginx.url("no-ranges/image.chunks");
  std::vector<net::RangeRequest> ranges = {{url, 4096, 4096}};
  int calls = 0;
  auto ok = net::get_ranges(ranges, quick_policy(), [&](std::size_t, std::string_view) -> Status {
    ++calls;
    return {};
  });
  REQUIRE_FALSE(ok);
  CHECK_THAT(ok.error().message, Catch::StartsWith("fetch '" + url + "' bytes 4096-8191: "));
  CHECK_THAT(ok.error().message, Catch::Contains("the server ignores Range requests"));
  CHECK(calls == 0);
  // The same location serves a whole file well.
  auto whole = net::get(url, quick_policy());
  REQUIRE(whole);
  CHECK(*whole == content);
}
