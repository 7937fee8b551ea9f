// The boot assessment's pieces (lib/assess/): the settings file, the verdict
// as a function of check results, the red plan, finding checks, retries, a
// real script run with a time limit, and the built-in checks' parsing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "assess/builtin.h"
#include "assess/checks.h"
#include "assess/config.h"
#include "assess/exec.h"
#include "assess/verdict.h"
#include "system/fd.h"
#include "test_support.h"

using namespace imgroot;
using namespace imgroot::assess;
using namespace imgroot::test;

namespace {

CheckResult result(const std::string& name, Kind kind, bool passed, int attempts = 1) {
  return {name, kind, passed, attempts, passed ? "" : "exit 1"};
}

void script(const TempDir& dir, const std::string& name, const std::string& body) {
  std::string path = dir.write(name, "#!/bin/sh\n" + body + "\n");
  REQUIRE(::chmod(path.c_str(), 0755) == 0);
}

}  // namespace

TEST_CASE("assess.conf sets every key and keeps the defaults of the others", "[assess]") {
  Config c;
  REQUIRE(apply_config("# comment\n\nretries = 2\ninterval=1\ntcp_port= 2222\nfailed_units=no\n"
                       "ignore_units = foo.service  bar-*.mount\nreboot_delay=0\nwatchdog=0\n",
                       c));
  CHECK(c.retries == 2);
  CHECK(c.interval == 1);
  CHECK(c.tcp_port == 2222);
  CHECK_FALSE(c.failed_units);
  CHECK(c.ignore_units == std::vector<std::string>{"foo.service", "bar-*.mount"});
  CHECK(c.reboot_delay == 0);
  CHECK(c.watchdog == 0);
  CHECK(c.default_target);
  CHECK(c.tcp_check);
  CHECK(c.timeout == 300);
}

TEST_CASE("assess.conf with an unknown key or a bad value is refused, naming the line",
          "[assess]") {
  Config c;
  auto unknown = apply_config("retries=1\nretires=3\n", c);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message == "line 2: unknown setting 'retires'");
  auto bad = apply_config("tcp_port=70000\n", c);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "line 1: tcp_port: '70000' is not a number from 1 to 65535");
  CHECK_FALSE(apply_config("tcp_check=maybe\n", c));
  CHECK_FALSE(apply_config("just words\n", c));
}

TEST_CASE("the verdict is red exactly when a required check failed", "[assess]") {
  struct Row {
    std::vector<CheckResult> results;
    bool green;
    std::vector<std::string> failed;
    std::vector<std::string> wanted_failed;
  };
  const std::vector<Row> table{
      {{}, true, {}, {}},
      {{result("required/10-a", Kind::kRequired, true)}, true, {}, {}},
      {{result("required/10-a", Kind::kRequired, false)}, false, {"required/10-a (exit 1)"}, {}},
      {{result("wanted/10-w", Kind::kWanted, false), result("20-flat", Kind::kRequired, true)},
       true, {}, {"wanted/10-w (exit 1)"}},
      {{result("20-flat", Kind::kRequired, false, 3), result("wanted/x", Kind::kWanted, false),
        result("builtin/tcp-port", Kind::kRequired, false)},
       false, {"20-flat (exit 1, 3 tries)", "builtin/tcp-port (exit 1)"}, {"wanted/x (exit 1)"}},
  };
  for (const auto& row : table) {
    auto v = decide(row.results);
    CHECK(v.green == row.green);
    CHECK(v.failed == row.failed);
    CHECK(v.wanted_failed == row.wanted_failed);
  }
}

TEST_CASE("a red verdict reboots only on trial, towards an old image that is not red", "[assess]") {
  CHECK(plan_red({true, true, false}).reboot);
  CHECK_FALSE(plan_red({false, true, false}).reboot);
  CHECK_FALSE(plan_red({true, false, false}).reboot);
  auto loop = plan_red({true, true, true});
  CHECK_FALSE(loop.reboot);
  CHECK(loop.why.find("marked bad too") != std::string::npos);
}

TEST_CASE("checks are found flat, in required/ and in wanted/, executables only, in order",
          "[assess]") {
  TempDir d;
  REQUIRE(::mkdir((d / "required").c_str(), 0755) == 0);
  REQUIRE(::mkdir((d / "wanted").c_str(), 0755) == 0);
  script(d, "20-flat", "true");
  script(d, "10-flat", "true");
  script(d, "10-flat~", "true");
  script(d, "required/50-nginx", "true");
  script(d, "required/40-db.dpkg-old", "true");
  script(d, "wanted/60-metrics", "true");
  d.write("required/README", "not a check");
  auto checks = find_checks(d.path());
  REQUIRE(checks);
  std::vector<std::string> names;
  for (const auto& c : *checks) names.push_back(c.name + (c.kind == Kind::kWanted ? ":w" : ":r"));
  CHECK(names == std::vector<std::string>{"10-flat:r", "20-flat:r", "required/50-nginx:r",
                                          "wanted/60-metrics:w"});
  auto none = find_checks(d / "missing");
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("a required check is retried until it passes, a wanted one is not", "[assess]") {
  Config c;
  c.retries = 3;
  c.interval = 7;
  int runs = 0;
  std::vector<int> slept;
  Retry retry{[&](const Check&) { return ++runs == 2 ? Try{true, ""} : Try{false, "exit 1"}; },
              [&](int s) { slept.push_back(s); }};
  auto passed = run_with_retries({"required/x", "", Kind::kRequired}, c, retry);
  CHECK(passed.passed);
  CHECK(passed.attempts == 2);
  CHECK(slept == std::vector<int>{7});

  runs = 10;  // never 2 again: always fails
  slept.clear();
  auto failed = run_with_retries({"required/x", "", Kind::kRequired}, c, retry);
  CHECK_FALSE(failed.passed);
  CHECK(failed.attempts == 4);
  CHECK(slept.size() == 3);

  slept.clear();
  auto wanted = run_with_retries({"wanted/y", "", Kind::kWanted}, c, retry);
  CHECK(wanted.attempts == 1);
  CHECK(slept.empty());
}

TEST_CASE("a check script's exit status and a hang are reported", "[assess]") {
  TempDir d;
  script(d, "ok", "exit 0");
  script(d, "bad", "exit 3");
  script(d, "hang", "sleep 30");
  auto ok = run_script(d / "ok", journal_tag("ok"), 5);
  REQUIRE(ok);
  CHECK(ok->passed);
  auto bad = run_script(d / "bad", journal_tag("bad"), 5);
  REQUIRE(bad);
  CHECK_FALSE(bad->passed);
  CHECK(bad->failure == "exit 3");
  auto hang = run_script(d / "hang", journal_tag("hang"), 1);
  REQUIRE(hang);
  CHECK_FALSE(hang->passed);
  CHECK(hang->failure == "timed out after 1s");
}

TEST_CASE("failed units are read from systemctl's list, less the ignored patterns", "[assess]") {
  const std::string out =
      "nginx.service loaded failed failed A high performance web server\n"
      "systemd-networkd-wait-online.service loaded failed failed Wait for Network\n"
      "\u25cf dev-sdb.mount loaded failed failed /dev/sdb\n";
  CHECK(failed_units(out, {}) == std::vector<std::string>{"nginx.service",
                                                          "systemd-networkd-wait-online.service",
                                                          "dev-sdb.mount"});
  CHECK(failed_units(out, {"systemd-networkd-*", "*.mount"}) ==
        std::vector<std::string>{"nginx.service"});
  CHECK(failed_units("", {}).empty());
}

TEST_CASE("the TCP check passes on a listening localhost port and fails on a closed one",
          "[assess]") {
  Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(listener.valid());
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(listener.get(), 1) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0);
  const int port = ntohs(a.sin_port);
  CHECK(tcp_port_answers(port).passed);
  listener = Fd();
  auto closed = tcp_port_answers(port);
  CHECK_FALSE(closed.passed);
  CHECK(closed.failure.starts_with("port " + std::to_string(port) + " on 127.0.0.1: "));
}
