// The imgroot binary as a user meets it: exit codes and one-line messages.
#include <catch2/catch.hpp>

#include "stage_support.h"

using namespace imgroot::test;

namespace {

Ran run_imgroot(const std::string& args) { return run(std::string(IMGROOT_BINARY) + " " + args); }

bool one_line(const std::string& s) {
  return !s.empty() && s.back() == '\n' && s.find('\n') == s.size() - 1;
}

}  // namespace

TEST_CASE("imgroot --help lists the verbs and exits 0", "[cli]") {
  auto r = run_imgroot("--help");
  CHECK(r.status == 0);
  for (const char* verb : {"status", "stage", "revert", "mark-good", "mark-bad"})
    CHECK(r.output.find(std::string("  ") + verb + " ") != std::string::npos);
}

TEST_CASE("every verb's --help shows its usage and exits 0", "[cli]") {
  for (const char* verb : {"status", "stage", "revert", "mark-good", "mark-bad"}) {
    auto r = run_imgroot(std::string(verb) + " --help");
    CHECK(r.status == 0);
    CHECK(r.output.starts_with(std::string("Usage: imgroot ") + verb));
    CHECK(r.output.find("--hostpart") != std::string::npos);
  }
}

TEST_CASE("an unknown verb or option is one line and exit 2", "[cli]") {
  auto verb = run_imgroot("frobnicate");
  CHECK(verb.status == 2);
  CHECK(one_line(verb.output));
  auto option = run_imgroot("status --frobnicate");
  CHECK(option.status == 2);
  CHECK(one_line(option.output));
  auto missing = run_imgroot("stage");
  CHECK(missing.status == 2);
  CHECK(one_line(missing.output));
  auto both = run_imgroot("revert --cancel --unstage --hostpart /tmp");
  CHECK(both.status == 2);
}

TEST_CASE("a host partition that is not there is one line and exit 1", "[cli]") {
  TempDir dir;
  auto r = run_imgroot("status --hostpart " + shell_quote(dir / "missing"));
  CHECK(r.status == 1);
  CHECK(one_line(r.output));
  CHECK(r.output == "imgroot: status: host partition: open '" + (dir / "missing") +
                        "': No such file or directory\n");
}

TEST_CASE("stage refuses a FIFO with exit 1 and names it", "[cli]") {
  TempDir dir;
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0644) == 0);
  auto r = run_imgroot("stage --hostpart " + shell_quote(dir.path()) + " " + shell_quote(dir / "fifo"));
  CHECK(r.status == 1);
  CHECK(r.output == "imgroot: stage '" + (dir / "fifo") + "': '" + (dir / "fifo") +
                        "' is a FIFO, not an image file\n");
}

TEST_CASE("stage --boots-without-grub stages an erofs image that stage otherwise refuses",
          "[cli]") {
  TempDir dir;
  std::filesystem::create_directory(dir / "hp");
  if (!make_good_erofs_image(dir / "a.img", dir / "root")) return;
  const std::string stage =
      "stage --no-inspect --tries 0 --hostpart " + shell_quote(dir / "hp") + " ";
  auto refused = run_imgroot(stage + shell_quote(dir / "a.img"));
  CHECK(refused.status == 1);
  CHECK(one_line(refused.output));
  CHECK(refused.output.find("--boots-without-grub") != std::string::npos);
  CHECK_FALSE(exists(dir / "hp/hn-root-new.img"));
  auto staged = run_imgroot(stage + "--boots-without-grub " + shell_quote(dir / "a.img"));
  CHECK(staged.status == 0);
  CHECK(exists(dir / "hp/hn-root-new.img"));
}

TEST_CASE("an exception out of a verb is one line saying internal error, and exit 1", "[cli]") {
  // The one way found to make a verb throw: diff starts a second thread
  // (diff/side_thread.cc), and std::thread throws std::system_error when
  // it cannot map a thread stack as large as RLIMIT_STACK asks for.
  TempDir dir;
  std::filesystem::create_directory(dir / "a");
  std::filesystem::create_directory(dir / "b");
  auto r = run("ulimit -s 2000000000 && " + std::string(IMGROOT_BINARY) + " diff " +
               shell_quote(dir / "a") + " " + shell_quote(dir / "b"));
  CHECK(r.status == 1);
  CHECK(r.output == "imgroot: internal error: Resource temporarily unavailable\n");
}

TEST_CASE("revert, revert --cancel and status work on a host partition directory", "[cli]") {
  TempDir dir;
  const std::string hp = "--hostpart " + shell_quote(dir.path());
  write_text(dir / "hn-root.img", "current");
  auto refused = run_imgroot("revert " + hp);
  CHECK(refused.status == 1);
  CHECK(refused.output == "imgroot: revert: there is no hn-root-old.img to go back to\n");

  write_text(dir / "hn-root-old.img", "old");
  auto reverted = run_imgroot("revert " + hp);
  CHECK(reverted.status == 0);
  CHECK(exists(dir / "system-revert"));
  auto status = run_imgroot("status --json " + hp);
  CHECK(status.status == 0);
  CHECK(status.output.find("\"revert_pending\": true") != std::string::npos);
  CHECK(status.output.find("\"action\": \"revert\"") != std::string::npos);

  auto cancelled = run_imgroot("revert --cancel " + hp);
  CHECK(cancelled.status == 0);
  CHECK(cancelled.output == "cancelled the pending revert\n");
  CHECK_FALSE(exists(dir / "system-revert"));
}

TEST_CASE("status removes a partial copy left by a killed stage", "[cli]") {
  TempDir dir;
  write_text(dir / ".hn-root-new.img.partial", "half");
  auto r = run_imgroot("status --hostpart " + shell_quote(dir.path()));
  CHECK(r.status == 0);
  CHECK(r.output.find("removed a partial copy") != std::string::npos);
  CHECK_FALSE(exists(dir / ".hn-root-new.img.partial"));
}

TEST_CASE("mark-good on a host partition without hn-root.img says so", "[cli]") {
  TempDir dir;
  auto r = run_imgroot("mark-good --hostpart " + shell_quote(dir.path()));
  CHECK(r.status == 1);
  CHECK(one_line(r.output));
  CHECK(r.output.find("there is no such image") != std::string::npos);
}

// imgroot assess with /etc and /run below 'root', rebooting by touching root/rebooted.
Ran run_assess(const TempDir& root, const TempDir& host) {
  return run_imgroot("assess --root " + root.path() + " --hostpart " + host.path() +
                     " --reboot-command 'touch " + root.path() + "/rebooted'");
}

TEST_CASE("assess marks good when every check passes and logs the verdict", "[cli][assess]") {
  TempDir root, host;
  write_text(host / "hn-root.img", "image");
  REQUIRE(run("mkdir -p " + root.path() + "/etc/imgroot/check.d/wanted").status == 0);
  write_text(root / "etc/imgroot/assess.conf",
             "failed_units=no\ndefault_target=no\ntcp_check=no\nwatchdog=0\n");
  write_text(root / "etc/imgroot/check.d/10-ok", "#!/bin/sh\nexit 0\n");
  write_text(root / "etc/imgroot/check.d/wanted/20-meh", "#!/bin/sh\nexit 4\n");
  REQUIRE(run("chmod +x " + root.path() + "/etc/imgroot/check.d/10-ok " + root.path() +
              "/etc/imgroot/check.d/wanted/20-meh").status == 0);
  auto r = run_assess(root, host);
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("wanted check failed: wanted/20-meh (exit 4)") != std::string::npos);
  CHECK(read_text(root / "run/imgroot/verdict") == "green\n");
  CHECK_FALSE(exists(root / "rebooted"));
  auto log = run_imgroot("log --hostpart " + host.path() + " -n 1");
  CHECK(log.output.find(" verdict image=hn-root.img result=green failed=[] "
                        "wanted_failed=[wanted/20-meh (exit 4)]") != std::string::npos);
  auto status = run_imgroot("status --hostpart " + host.path());
  CHECK(status.output.find("assessment: hn-root.img is good") != std::string::npos);
}

TEST_CASE("a deadline that fires while the checks run waits for their verdict", "[cli][assess]") {
  TempDir root, host;
  write_text(host / "hn-root.img", "image");
  REQUIRE(run("mkdir -p " + root.path() + "/etc/imgroot/check.d").status == 0);
  write_text(root / "etc/imgroot/assess.conf",
             "failed_units=no\ndefault_target=no\ntcp_check=no\nwatchdog=0\n");
  // The check says when it started, then takes two seconds.
  write_text(root / "etc/imgroot/check.d/10-slow",
             "#!/bin/sh\ntouch " + root.path() + "/check-started\nsleep 2\n");
  REQUIRE(run("chmod +x " + root.path() + "/etc/imgroot/check.d/10-slow").status == 0);
  const std::string assess = "'" + std::string(IMGROOT_BINARY) + "' assess --root " + root.path() +
                             " --hostpart " + host.path();
  // The assessment in the background; the deadline once its check runs.
  auto r = run("(" + assess + " >" + root.path() + "/assess.out 2>&1 &) ; "
               "while [ ! -e " + root.path() + "/check-started ]; do sleep 0.1; done; " +
               assess + " --deadline; echo \"deadline exit $?\"; cat " + root.path() +
               "/run/imgroot/verdict");
  INFO(r.output);
  // The deadline returned only after the checks' verdict, found it and said nothing.
  CHECK(r.output == "deadline exit 0\ngreen\n");
  auto log = run_imgroot("log --hostpart " + host.path() + " --json");
  std::size_t verdicts = 0;
  for (std::size_t at = 0; (at = log.output.find("\"verdict\"", at)) != std::string::npos; ++at)
    ++verdicts;
  CHECK(verdicts == 1);
}

TEST_CASE("assess marks bad on a failed required check and stays up when not on trial",
          "[cli][assess]") {
  TempDir root, host;
  write_text(host / "hn-root.img", "image");
  write_text(host / "hn-root-old.img", "old");
  REQUIRE(run("mkdir -p " + root.path() + "/etc/imgroot/check.d/required " + root.path() +
              "/etc/imgroot/red.d").status == 0);
  write_text(root / "etc/imgroot/assess.conf",
             "failed_units=no\ndefault_target=no\ntcp_check=no\nwatchdog=0\nretries=1\n"
             "interval=0\nreboot_delay=0\n");
  write_text(root / "etc/imgroot/check.d/required/50-nginx", "#!/bin/sh\nexit 1\n");
  write_text(root / "etc/imgroot/red.d/10-note",
             "#!/bin/sh\ntouch " + root.path() + "/red-ran\nexit 2\n");
  REQUIRE(run("chmod +x " + root.path() + "/etc/imgroot/check.d/required/50-nginx " +
              root.path() + "/etc/imgroot/red.d/10-note").status == 0);
  auto r = run_assess(root, host);
  INFO(r.output);
  CHECK(r.status == 1);
  CHECK(r.output.find("required/50-nginx (exit 1, 2 tries)") != std::string::npos);
  CHECK(r.output.find("red.d/10-note failed (exit 2); the verdict stands") != std::string::npos);
  CHECK(exists(root / "red-ran"));
  CHECK_FALSE(exists(root / "rebooted"));  // no trial: no reboot
  CHECK(read_text(root / "run/imgroot/verdict") == "red\n");
  CHECK(read_text(root / "run/motd.d/50-imgroot").find("failed its boot assessment") !=
        std::string::npos);
  auto status = run_imgroot("status --hostpart " + host.path());
  CHECK(status.output.find("assessment: hn-root.img is bad") != std::string::npos);
  // The log says the node stays up, in words and for programs.
  auto log = run_imgroot("log --json -n 1 --hostpart " + host.path());
  CHECK(log.output.find("\"action\":\"the running image is not on trial: staying up") !=
        std::string::npos);
  CHECK(log.output.find("\"reboot\":false") != std::string::npos);
}
