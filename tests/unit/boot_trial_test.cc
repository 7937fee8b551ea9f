// The boot trial's write order (state/boot_trial.h): what stage, mark-good,
// mark-bad and revert leave in grubenv and on the host partition, and what
// a failure half way leaves (docs/grub.md, "Crashes and resets").
#include <catch2/catch.hpp>

#include "base/layout.h"
#include "grub/env.h"
#include "grub/trial.h"
#include "stage_support.h"
#include "state/boot_trial.h"
#include "system/fd.h"
#include "system/file.h"

using namespace imgroot;
using namespace imgroot::host_files;
using namespace imgroot::state;
using namespace imgroot::test;

namespace {

// A host partition folder with the given images, offline (nothing booted
// from it), and an EFI-BOOT folder with grub/ and no grubenv yet.
struct Node {
  TempDir dir;
  std::string hp = dir / "hp", esp = dir / "esp";
  std::string grubenv = esp + "/" + esp_files::kGrubDir + "/" + esp_files::kEnvFile;
  std::string state_json = hp + "/" + kStateDir + "/" + kStateFile;
  Hostpart hostpart;
  SystemPaths offline;

  explicit Node(std::initializer_list<const char*> images) {
    std::filesystem::create_directories(hp);
    std::filesystem::create_directories(esp + "/" + esp_files::kGrubDir);
    for (const char* name : images) write_text(hp + "/" + name, name);
    hostpart = Hostpart{hp, Fd::open_dir(hp).value()};
    offline.cmdline = offline.mountinfo = dir / "none";
  }

  void on_trial(int tries) {
    grub::Env env;
    REQUIRE(grub::start_trial(env, tries));
    write_env(env);
  }
  void write_env(const grub::Env& env) { write_text(grubenv, grub::format_env(env).value()); }
  grub::Trial trial() const { return grub::read_trial(grub::parse_env(read_text(grubenv)).value()); }
  Assessment assessment(const char* name) const {
    auto st = stat_at(hostpart.dir.get(), name).value();
    REQUIRE(st);
    const StateFile loaded = load_state(hostpart.dir.get()).value();  // find() points into it
    const auto* record = loaded.find(*st);
    return record ? record->assessment : Assessment::kNone;
  }
  Result<Verdict> mark(Assessment verdict) {
    return record_verdict(hostpart, offline, esp, verdict);
  }
};

}  // namespace

TEST_CASE("stage's trial counts the tries asked for, and --tries 0 ends a trial left over",
          "[trial]") {
  Node n({kCurrent, kNew});
  auto started = start_boot_trial(n.esp, 2);
  REQUIRE(started);
  REQUIRE(*started);
  CHECK((*started)->phase == grub::Phase::kCounting);
  CHECK(n.trial().tries_left == 2);
  CHECK(read_text(n.grubenv).size() == grub::kEnvBlockSize);  // created for GRUB to count in

  auto none = start_boot_trial(n.esp, 0);
  REQUIRE(none);
  CHECK((*none)->phase == grub::Phase::kNone);
  CHECK(n.trial().phase == grub::Phase::kNone);
  CHECK_FALSE(start_boot_trial(n.esp, grub::kMaxTries + 1));
  CHECK(n.trial().phase == grub::Phase::kNone);
}

TEST_CASE("without an EFI-BOOT partition the verbs touch no grubenv and report no trial",
          "[trial]") {
  Node n({kCurrent, kOld});
  auto started = start_boot_trial(std::nullopt, 3);
  REQUIRE(started);
  CHECK_FALSE(*started);
  auto marked = record_verdict(n.hostpart, n.offline, std::nullopt, Assessment::kGood);
  REQUIRE(marked);
  CHECK_FALSE(marked->trial);
  CHECK_FALSE(marked->staged_trial_left);
  CHECK(n.assessment(kCurrent) == Assessment::kGood);
  auto reverted = revert_ending_trial(n.hostpart.dir.get(), {}, std::nullopt);
  REQUIRE(reverted);
  CHECK(reverted->trial_ended);
  CHECK_FALSE(reverted->trial);
  CHECK(exists(n.hp + "/" + kRevertFlag));
  CHECK_FALSE(exists(n.grubenv));
}

TEST_CASE("mark-good ends the running image's trial and records it good", "[trial]") {
  Node n({kCurrent, kOld});
  n.on_trial(2);
  auto marked = n.mark(Assessment::kGood);
  REQUIRE(marked);
  CHECK(marked->image == kCurrent);
  CHECK(marked->trial->phase == grub::Phase::kNone);
  CHECK(n.trial().phase == grub::Phase::kNone);
  CHECK(n.assessment(kCurrent) == Assessment::kGood);
}

TEST_CASE("mark-bad uses up the running image's tries and records it bad", "[trial]") {
  Node n({kCurrent, kOld});
  n.on_trial(3);
  auto marked = n.mark(Assessment::kBad);
  REQUIRE(marked);
  CHECK(marked->trial->phase == grub::Phase::kCounting);
  CHECK(n.trial().phase == grub::Phase::kCounting);
  CHECK(n.trial().tries_left == 0);
  CHECK(n.assessment(kCurrent) == Assessment::kBad);
}

TEST_CASE("mark-good on an image not on trial records the verdict and leaves grubenv as it was",
          "[trial]") {
  Node n({kCurrent});
  grub::Env env;
  env.set("saved_entry", "imgroot");
  n.write_env(env);
  const std::string before = read_text(n.grubenv);
  auto marked = n.mark(Assessment::kGood);
  REQUIRE(marked);
  CHECK(marked->trial->phase == grub::Phase::kNone);
  CHECK(read_text(n.grubenv) == before);
  CHECK(n.assessment(kCurrent) == Assessment::kGood);

  Node fresh({kCurrent});  // no grubenv yet: it is made for GRUB to count in
  REQUIRE(fresh.mark(Assessment::kGood));
  CHECK(grub::parse_env(read_text(fresh.grubenv)).value().vars().empty());
}

TEST_CASE("a verdict while an image is staged leaves the staged image's trial alone", "[trial]") {
  Node n({kCurrent, kNew});
  n.on_trial(2);
  const std::string before = read_text(n.grubenv);
  for (auto verdict : {Assessment::kBad, Assessment::kGood}) {
    auto marked = n.mark(verdict);
    REQUIRE(marked);
    CHECK(marked->staged_trial_left);
    CHECK_FALSE(marked->trial);
    CHECK(read_text(n.grubenv) == before);
    CHECK(n.assessment(kCurrent) == verdict);
  }
  // It does not even need the EFI-BOOT partition.
  REQUIRE(record_verdict(n.hostpart, n.offline, n.dir / "nowhere", Assessment::kGood));
}

TEST_CASE("a grubenv that cannot be read makes the verdict fail before it is recorded",
          "[trial][crash]") {
  Node n({kCurrent});
  write_text(n.grubenv, "not a grubenv");
  auto marked = n.mark(Assessment::kGood);
  REQUIRE_FALSE(marked);
  CHECK(marked.error().message.starts_with("boot trial: "));
  CHECK_FALSE(exists(n.state_json));
  auto elsewhere = record_verdict(n.hostpart, n.offline, n.dir / "nowhere", Assessment::kGood);
  REQUIRE_FALSE(elsewhere);
  CHECK_FALSE(exists(n.state_json));
}

TEST_CASE("mark-good writes grubenv first: when the state cannot be written the trial is over "
          "and the image is still unassessed",
          "[trial][crash]") {
  Node n({kCurrent});
  n.on_trial(1);
  std::filesystem::create_directories(n.hp + "/" + kStateDir);
  write_text(n.state_json, "{ cut short");
  REQUIRE_FALSE(n.mark(Assessment::kGood));
  CHECK(n.trial().phase == grub::Phase::kNone);
  CHECK(read_text(n.state_json) == "{ cut short");
}

TEST_CASE("revert during a trial writes the flag, then ends the trial", "[trial]") {
  Node n({kCurrent, kOld});
  n.on_trial(2);
  auto reverted = revert_ending_trial(n.hostpart.dir.get(), {}, n.esp);
  REQUIRE(reverted);
  CHECK(reverted->trial_ended);
  CHECK(reverted->trial->phase == grub::Phase::kNone);
  CHECK(exists(n.hp + "/" + kRevertFlag));
  CHECK(n.trial().phase == grub::Phase::kNone);
}

TEST_CASE("a refused revert leaves the trial alone", "[trial]") {
  Node n({kCurrent, kOld, kNew});
  n.on_trial(2);
  auto reverted = revert_ending_trial(n.hostpart.dir.get(), {}, n.esp);
  REQUIRE_FALSE(reverted);
  CHECK(reverted.error().message.starts_with("hn-root-new.img is staged"));
  CHECK(n.trial().tries_left == 2);
  CHECK_FALSE(exists(n.hp + "/" + kRevertFlag));
}

TEST_CASE("when grubenv cannot be written after the flag, the revert is pending and the result "
          "says the trial is not ended",
          "[trial][crash]") {
  Node n({kCurrent, kOld});
  write_text(n.grubenv, "not a grubenv");
  auto reverted = revert_ending_trial(n.hostpart.dir.get(), {}, n.esp);
  REQUIRE(reverted);
  REQUIRE_FALSE(reverted->trial_ended);
  CHECK(reverted->trial_ended.error().message.starts_with(
      "the revert is pending, but the boot trial could not be ended: "));
  CHECK_FALSE(reverted->trial);
  CHECK(exists(n.hp + "/" + kRevertFlag));
  CHECK(read_text(n.grubenv) == "not a grubenv");
}

TEST_CASE("stage's trial on a grubenv that cannot be read fails and leaves the file", "[trial]") {
  Node n({kCurrent, kNew});
  write_text(n.grubenv, "not a grubenv");
  CHECK_FALSE(start_boot_trial(n.esp, 3));
  CHECK(read_text(n.grubenv) == "not a grubenv");
  CHECK(exists(n.hp + "/" + kNew));
}
