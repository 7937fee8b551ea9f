// imgroot stage URL as the fleet modules drive it: a release the node has
// already is no change, and --dry-run says what a stage would do without
// writing anything (docs/releases.md, "Staging a release").
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/layout.h"
#include "stage_support.h"

using namespace imgroot;
using namespace imgroot::test;
namespace fs = std::filesystem;

namespace {

Ran run_imgroot(const std::string& args) { return run(std::string(IMGROOT_BINARY) + " " + args); }

// Releases hn-root-1 (image A) and hn-root-2 (image B) published in a
// directory, a node's host partition (a directory), and an empty keys
// directory (the node trusts no key: releases are staged unsigned).
struct Site {
  TempDir tmp;
  std::string hostpart = tmp / "hp";
  std::string keys = tmp / "keys";
  Site() {
    fs::create_directories(hostpart);
    fs::create_directories(keys);
    make_good_image(tmp / "a.img", tmp / "root-a");
    make_ext4_image(tmp / "b.img", tmp / "root-b",
                    {{"sbin/init", "x:#!/bin/sh\n"},
                     {"boot/vmlinuz", "kernel 2"},
                     {"boot/kernel", "->/boot/vmlinuz"},
                     {"boot/initramfs", "initramfs 2"},
                     {"etc/release", "two\n"}});
    for (const char* image : {"a.img", "b.img"}) {
      auto r = run_imgroot("publish --level 1 --to " + shell_quote(tmp / "site") + " " +
                           shell_quote(tmp / image));
      if (r.status != 0) FAIL(r.output);
    }
  }
  std::string url(int version) const {
    return "file://" + (tmp / "site/releases/hn-root-") + std::to_string(version) + "/manifest.json";
  }
  // Its stdout only (the warning that no key checks the release is on stderr).
  Ran stage(const std::string& options, int version) const {
    return run("{ " + std::string(IMGROOT_BINARY) + " stage --no-inspect --tries 0 --keys " +
               shell_quote(keys) + " --hostpart " + shell_quote(hostpart) + " " + options + " " +
               shell_quote(url(version)) + " 2>/dev/null; }");
  }
  // A boot: the staged image becomes current (the init's rename; state.json
  // follows the inode).
  void boot() const {
    fs::rename(hostpart + "/" + host_files::kNew, hostpart + "/" + host_files::kCurrent);
  }
  // Every path under the host partition, with its size and mtime.
  std::string tree() const {
    std::string out;
    for (const auto& e : fs::recursive_directory_iterator(hostpart)) {
      out += e.path().string() + " ";
      if (e.is_regular_file())
        out += std::to_string(e.file_size()) + " " +
               std::to_string(e.last_write_time().time_since_epoch().count());
      out += "\n";
    }
    return out;
  }
};

// The last line of --json output, parsed.
nlohmann::json last_json(const Ran& r) {
  INFO(r.output);
  REQUIRE(r.status == 0);
  std::string out = r.output;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return nlohmann::json::parse(out.substr(out.rfind('\n') + 1));
}

}  // namespace

TEST_CASE("staging a release that is already staged changes nothing and says why", "[cli][release]") {
  Site s;
  auto first = last_json(s.stage("--json", 1));
  CHECK(first["event"] == "staged");
  CHECK(first["changed"] == true);
  const auto staged = stat_of(s.hostpart + "/" + host_files::kNew);

  auto again = last_json(s.stage("--json", 1));
  CHECK(again["event"] == "unchanged");
  CHECK(again["changed"] == false);
  CHECK(again["reason"] == "staged");
  CHECK(again["release"] == "hn-root-1");
  CHECK(again["version"] == 1);
  CHECK(stat_of(s.hostpart + "/" + host_files::kNew).st_ino == staged.st_ino);
  CHECK_FALSE(exists(s.hostpart + "/" + host_files::kFetchDir));
}

TEST_CASE("staging the release the node runs is one line, exit 0, and stages nothing", "[cli][release]") {
  Site s;
  REQUIRE(s.stage("", 1).status == 0);
  s.boot();
  auto human = s.stage("", 1);
  CHECK(human.status == 0);
  CHECK(human.output ==
        "release hn-root-1 is already the current image (hn-root.img): nothing to stage\n");
  auto json = last_json(s.stage("--json", 1));
  CHECK(json["changed"] == false);
  CHECK(json["reason"] == "current");
  CHECK_FALSE(exists(s.hostpart + "/" + host_files::kNew));
  CHECK_FALSE(exists(s.hostpart + "/" + host_files::kFetchDir));

  // Another release is a change.
  auto next = last_json(s.stage("--json", 2));
  CHECK(next["event"] == "staged");
  CHECK(next["changed"] == true);
  CHECK(next["release"] == "hn-root-2");
}

TEST_CASE("the running release staged while another image is staged is staged again", "[cli][release]") {
  Site s;
  REQUIRE(s.stage("", 1).status == 0);
  s.boot();
  REQUIRE(s.stage("", 2).status == 0);
  // hn-root-2 is staged; going back to hn-root-1 at the next boot is a change.
  auto json = last_json(s.stage("--json", 1));
  CHECK(json["event"] == "staged");
  CHECK(json["changed"] == true);
}

TEST_CASE("stage --dry-run says what a stage would do and writes nothing", "[cli][release]") {
  Site s;
  const std::string empty = s.tree();
  auto would = last_json(s.stage("--dry-run --json", 2));
  CHECK(would["event"] == "dry-run");
  CHECK(would["changed"] == true);
  CHECK(would["reason"] == nullptr);
  CHECK(would["release"] == "hn-root-2");
  CHECK(would["name"] == "hn-root");
  CHECK(would["version"] == 2);
  CHECK(would["signed_by"] == "unsigned");
  CHECK(would["size"].get<std::uint64_t>() == fs::file_size(s.tmp / "b.img"));
  CHECK(s.tree() == empty);

  auto human = s.stage("--dry-run", 2);
  CHECK(human.status == 0);
  CHECK_THAT(human.output, Catch::StartsWith("dry run: would stage release hn-root-2 (ext4"));
  CHECK(s.tree() == empty);

  REQUIRE(s.stage("", 2).status == 0);
  const std::string staged = s.tree();
  auto nothing = last_json(s.stage("--dry-run --json", 2));
  CHECK(nothing["changed"] == false);
  CHECK(nothing["reason"] == "staged");
  CHECK(s.tree() == staged);
}

TEST_CASE("stage --dry-run refuses what a stage would refuse", "[cli][release]") {
  Site s;
  REQUIRE(s.stage("", 2).status == 0);
  s.boot();
  const std::string before = s.tree();

  auto downgrade = s.stage("--dry-run --json", 1);
  CHECK(downgrade.status == 1);
  auto said = run(std::string(IMGROOT_BINARY) + " stage --dry-run --keys " + shell_quote(s.keys) +
                  " --hostpart " + shell_quote(s.hostpart) + " " + shell_quote(s.url(1)));
  CHECK_THAT(said.output, Catch::Contains("downgrade") || Catch::Contains("older"));
  CHECK(last_json(s.stage("--dry-run --json --allow-downgrade", 1))["changed"] == true);

  // A node that trusts a key refuses the unsigned release.
  REQUIRE(run_imgroot("key generate " + shell_quote(s.tmp / "signer")).status == 0);
  fs::copy_file(s.tmp / "signer.pub", s.keys + "/signer.pub");
  CHECK(s.stage("--dry-run --json --allow-downgrade", 1).status == 1);
  CHECK(s.tree() == before);
}

TEST_CASE("stage --dry-run is for a release, not an image file", "[cli][release]") {
  Site s;
  auto r = run_imgroot("stage --dry-run --hostpart " + shell_quote(s.hostpart) + " " +
                       shell_quote(s.tmp / "a.img"));
  CHECK(r.status == 2);
  CHECK_THAT(r.output, Catch::Contains("--dry-run"));
}
