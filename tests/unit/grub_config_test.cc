// The generated GRUB script, run in a small interpreter (grub_sim.h)
// against the real rotation code: GRUB and the init must pick the same
// image in every state, and the boot trial must end the way docs/grub.md
// says, whatever boot a power cut interrupts.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "boot/cmdline.h"
#include "base/layout.h"
#include "boot/rotation.h"
#include "grub/config.h"
#include "grub/esp.h"
#include "grub/trial.h"
#include "grub_sim.h"
#include "stage_support.h"
#include "state/boot_trial.h"
#include "system/fd.h"
#include "system/file.h"

using namespace imgroot;
using namespace imgroot::host_files;
using namespace imgroot::test;
namespace rot = imgroot::rotation;

namespace {

std::string script(grub::ConfigOptions options = {}) {
  if (options.cmdline.empty()) options.cmdline = "console=ttyS0";
  return grub::generate_config(options, "test").value();
}

bool has_arg(const GrubSim::Boot& b, const std::string& arg) {
  return std::find(b.args.begin(), b.args.end(), arg) != b.args.end();
}

// The init's check, for images that are files holding what they are:
// garbage holds no filesystem (libblkid's probe), and a staged image must
// mount (a truncated copy does not). Images named by a letter alone boot.
bool holds_filesystem(int dir, const char* name) {
  auto content = read_file_at(dir, name);
  if (!content || *content == "garbage") return !content;
  return std::string_view(name) != kNew || !content->starts_with("truncated:");
}

// How far a boot gets.
enum class Reach {
  kUserspace,   // the init rotates and boots hn-root.img
  kKernelDies,  // the kernel panics (or the power fails) before the init runs
};

// A node: a host partition directory whose images are files holding a
// letter, an EFI-BOOT folder with grub/grubenv, and GRUB running the
// generated script. What the CLI does to the boot trial (stage, mark-good,
// mark-bad, revert) is the library's own code (state/boot_trial.h).
class Node {
 public:
  Node() : Node(std::filesystem::temp_directory_path()) {}
  explicit Node(const std::filesystem::path& base)
      : tmp_(base), hostpart_(make_dir(tmp_ / "hp")), esp_path_(tmp_ / "esp"),
        sim_(script()) {
    std::filesystem::create_directories(esp_path_ + "/" + grub::kGrubDir);
    esp_ = grub::open_esp(esp_path_).value();
    REQUIRE(grub::ensure_grubenv(esp_));  // as `imgroot grub` and provision leave it
    paths_.cmdline = paths_.mountinfo = tmp_ / "none";  // offline: nothing booted from it
  }

  void put(const char* name, const std::string& letter) {
    REQUIRE(write_file_atomic_at(dir(), name, letter));
  }
  void put(std::initializer_list<std::pair<const char*, std::string>> files) {
    for (const auto& [name, letter] : files) put(name, letter);
  }
  // The files the bits of 'mask' name: 1 hn-root.img (C), 2 hn-root-new.img
  // (N), 4 hn-root-old.img (O), 8 system-revert.
  void put_mask(int mask) {
    if (mask & 1) put(kCurrent, "C");
    if (mask & 2) put(kNew, "N");
    if (mask & 4) put(kOld, "O");
    if (mask & 8) put(kRevertFlag, "");
  }
  int dir() const { return hostpart_.dir.get(); }
  std::string content(const char* name) const {
    auto text = read_file_at(dir(), name);
    return text ? *text : "";
  }
  bool has(const char* name) const { return exists_at(dir(), name).value(); }

  bool env_writable = true;
  std::set<std::string> unloadable;

  // `imgroot stage --tries N`, once the image is in place as hn-root-new.img.
  void stage_trial(int tries) { REQUIRE(state::start_boot_trial(esp_path_, tries)); }
  // `imgroot mark-good` or `mark-bad` on the running node.
  state::Verdict mark(state::Assessment verdict) {
    auto done = state::record_verdict(hostpart_, paths_, esp_path_, verdict);
    REQUIRE(done);
    return *done;
  }
  // `imgroot revert`.
  state::Reverted revert() {
    auto done = state::revert_ending_trial(dir(), {}, esp_path_);
    REQUIRE(done);
    return std::move(*done);
  }
  // The verdict imgroot/state.json holds for the image under 'name'.
  state::Assessment assessment(const char* name) const {
    auto st = stat_at(dir(), name).value();
    REQUIRE(st);
    const state::StateFile loaded = state::load_state(dir()).value();  // find() points into it
    const auto* record = loaded.find(*st);
    return record ? record->assessment : state::Assessment::kNone;
  }

  // grubenv as someone else leaves it: a variable set by hand, or no file.
  void set_env(const char* name, const std::string& value) {
    grub::Env env = grub::load_grubenv(esp_).value();
    env.set(name, value);
    REQUIRE(grub::save_grubenv(esp_, env));
  }
  void remove_grubenv() { REQUIRE(remove_at(esp_.grub_dir.get(), grub::kEnvFile)); }

  struct Result {
    GrubSim::Boot grub;
    std::string kernel;  // the letter of the image whose kernel GRUB loaded
    std::string booted;  // the letter of the image the init booted; empty if it did not
    bool agreed = false;  // the init's rules chose the file GRUB loaded from
    rot::Action outcome_action = rot::Action::kNone;  // the init's rotation
  };

  // One boot: GRUB (with grubenv as on disk), then the init unless the boot
  // dies first; 'cut' cuts the init's renames short.
  Result boot(Reach reach = Reach::kUserspace, rot::CrashAfter* cut = nullptr,
              const std::optional<std::string>& entry = std::nullopt) {
    Result r;
    // GRUB's `-f`: the name exists, through a symlink too, and is no directory.
    sim_.files.clear();
    const auto names = list_dir(dir()).value();
    for (const auto& name : names) {
      struct stat st {};
      if (::fstatat(dir(), name.c_str(), &st, 0) == 0 && !S_ISDIR(st.st_mode))
        sim_.files.insert(name);
    }
    std::optional<grub::Env> before;
    if (exists_at(esp_.grub_dir.get(), grub::kEnvFile).value())
      before = grub::load_grubenv(esp_).value();
    sim_.grubenv = before;
    sim_.grubenv_writable = env_writable;
    sim_.unloadable = unloadable;
    r.grub = sim_.boot(entry);
    // What GRUB saved is what is on disk: through the real block format.
    if (sim_.grubenv != before) REQUIRE(grub::save_grubenv(esp_, *sim_.grubenv));
    if (r.grub.image.empty()) return r;
    r.kernel = content(r.grub.image.c_str());
    if (reach == Reach::kKernelDies) return r;

    const BootConfig config = parse_cmdline(r.grub.cmdline()).config;
    auto outcome = rot::rotate_at_boot(dir(), config, holds_filesystem, cut);
    if (!outcome) return r;  // the power failed in the middle
    r.agreed = config.image && *config.image == outcome->chosen;
    r.outcome_action = outcome->action;
    r.booted = content(kCurrent);
    return r;
  }

  grub::Trial trial() const { return state::read_boot_trial(esp_path_).value().value(); }
  const GrubSim& sim() const { return sim_; }

  // The letters of every image file.
  std::multiset<std::string> images() const {
    std::multiset<std::string> out;
    for (const char* name : {kCurrent, kNew, kOld, kBroken})
      if (has(name)) out.insert(content(name));
    return out;
  }

 private:
  static state::Hostpart make_dir(const std::string& path) {
    std::filesystem::create_directories(path);
    return state::Hostpart{path, Fd::open_dir(path).value()};
  }

  TempDir tmp_;
  state::Hostpart hostpart_;
  std::string esp_path_;
  grub::Esp esp_;
  state::SystemPaths paths_;
  GrubSim sim_;
};

// GRUB loaded the kernel of the image holding 'letter', with each of 'args'
// on the command line, and the init agreed and booted that image.
void check_boots(const Node::Result& r, const std::string& letter,
                 std::initializer_list<std::string> args) {
  CHECK(r.kernel == letter);
  for (const auto& arg : args) CHECK(has_arg(r.grub, arg));
  CHECK(r.agreed);
  CHECK(r.booted == letter);
}

// Stage B over A (A current, Z older) with a trial of 'tries'.
void stage_b(Node& n, int tries, bool with_old = true) {
  n.put(kCurrent, "A");
  if (with_old) n.put(kOld, "Z");
  n.put(kNew, "B");
  n.stage_trial(tries);
}

}  // namespace

TEST_CASE("GRUB loads the file rotation::boot_choice chooses, for every combination of files",
          "[grub]") {
  for (int mask = 0; mask < 16; ++mask) {
    for (bool on_trial : {false, true}) {
      Node n;
      n.put_mask(mask);
      if (on_trial) n.stage_trial(3);
      auto want = rot::boot_choice(rot::read_state(n.dir()).value(), false);
      auto r = n.boot();
      INFO("files mask " << mask << (on_trial ? ", on trial" : ""));
      CHECK(r.grub.image == want.value_or(""));
      if (want) {
        CHECK(has_arg(r.grub, "imgroot.image=" + *want));
        CHECK_FALSE(has_arg(r.grub, "imgroot.revert=1"));
        CHECK_FALSE(has_arg(r.grub, "imgroot.unstage=1"));
        CHECK(r.agreed);
      }
    }
  }
}

TEST_CASE("the kernel arguments are the file, panic=, then the extra arguments", "[grub]") {
  grub::ConfigOptions options;
  options.cmdline = "console=ttyS0 quiet";
  GrubSim sim(script(options));
  sim.files = {kCurrent};
  auto b = sim.boot();
  CHECK(b.cmdline() == "imgroot.image=hn-root.img panic=10 console=ttyS0 quiet");
  CHECK(b.entry == "imgroot");
}

TEST_CASE("a staged image is tried N times, then GRUB boots the old one with imgroot.revert=1",
          "[grub][trial]") {
  for (int tries = 1; tries <= grub::kMaxTries; ++tries) {
    INFO(tries << " tries");
    Node n;
    stage_b(n, tries);
    for (int i = 1; i <= tries; ++i) {
      auto r = n.boot();
      CHECK(r.kernel == "B");
      CHECK(r.booted == "B");
      CHECK(r.agreed);
      CHECK(n.trial().tries_left == tries - i);
    }
    check_boots(n.boot(), "A", {"imgroot.image=hn-root-old.img", "imgroot.revert=1"});
    CHECK(n.trial().phase == grub::Phase::kReverting);
    auto after = n.boot();
    CHECK(after.kernel == "A");
    CHECK(after.booted == "A");
    CHECK_FALSE(has_arg(after.grub, "imgroot.revert=1"));
    CHECK(n.trial().phase == grub::Phase::kNone);
    CHECK(n.content(kCurrent) == "A");
    CHECK(n.content(kBroken) == "B");
  }
}

TEST_CASE("mark-good during the trial keeps the new image for good", "[grub][trial]") {
  Node n;
  stage_b(n, 1);
  CHECK(n.boot().booted == "B");
  auto done = n.mark(state::Assessment::kGood);
  CHECK(done.image == kCurrent);
  CHECK(n.assessment(kCurrent) == state::Assessment::kGood);
  for (int i = 0; i < 10; ++i) {
    auto r = n.boot();
    CHECK(r.kernel == "B");
    CHECK(r.booted == "B");
  }
  CHECK(n.trial().phase == grub::Phase::kNone);
}

TEST_CASE("mark-bad during the trial makes the next boot revert", "[grub][trial]") {
  Node n;
  stage_b(n, 3);
  CHECK(n.boot().booted == "B");
  n.mark(state::Assessment::kBad);
  auto r = n.boot();
  CHECK(r.kernel == "A");
  CHECK(r.booted == "A");
  CHECK(n.content(kBroken) == "B");
}

TEST_CASE("mark-good on the current image while another is staged leaves the staged image's trial",
          "[grub][trial]") {
  Node n;
  stage_b(n, 2);
  auto done = n.mark(state::Assessment::kGood);
  CHECK(done.staged_trial_left);
  CHECK(n.assessment(kCurrent) == state::Assessment::kGood);
  CHECK(n.trial().tries_left == 2);
  CHECK(n.boot().booted == "B");
  CHECK(n.boot().booted == "B");
  CHECK(n.boot().booted == "A");  // B used its two tries
}

TEST_CASE("revert during the trial ends it and the next boot goes back for good", "[grub][trial]") {
  Node n;
  stage_b(n, 3);
  CHECK(n.boot().booted == "B");
  REQUIRE(n.revert().trial_ended);
  CHECK(n.trial().phase == grub::Phase::kNone);
  auto r = n.boot();
  CHECK(r.kernel == "A");
  CHECK(r.booted == "A");
  CHECK(r.agreed);
  for (int i = 0; i < 5; ++i) CHECK(n.boot().booted == "A");
  CHECK(n.content(kBroken) == "B");
  CHECK(n.trial().phase == grub::Phase::kNone);
}

TEST_CASE("a crash between the revert flag and the end of the trial still reverts", "[grub][trial][crash]") {
  Node n;
  stage_b(n, 3);
  CHECK(n.boot().booted == "B");
  // The first step of `imgroot revert` only: the flag, not grubenv.
  REQUIRE(state::request_revert(n.dir(), {}));
  auto r = n.boot();
  CHECK(r.kernel == "A");
  CHECK(r.booted == "A");
  CHECK(r.agreed);
  // The trial left over counts A's boots; the revert left nothing older to
  // go back to, so A keeps booting once they are used up.
  CHECK(n.trial().phase == grub::Phase::kCounting);
  CHECK_FALSE(n.has(kOld));
  for (int i = 0; i < 5; ++i) CHECK(n.boot().booted == "A");
  CHECK(n.content(kBroken) == "B");
  CHECK(n.trial().phase == grub::Phase::kNone);
}

TEST_CASE("a staged image whose kernel never reaches the init is given up after N tries",
          "[grub][trial]") {
  Node n;
  stage_b(n, 3);
  for (int i = 0; i < 3; ++i) CHECK(n.boot(Reach::kKernelDies).kernel == "B");
  check_boots(n.boot(), "A", {"imgroot.image=hn-root.img", "imgroot.unstage=1"});
  CHECK(n.content(kBroken) == "B");
  CHECK(n.content(kOld) == "Z");  // the image before the current one is kept
  CHECK_FALSE(n.has(kNew));
  CHECK(n.boot().booted == "A");
  CHECK(n.trial().phase == grub::Phase::kNone);
}

TEST_CASE("a revert GRUB started is finished even if an image is staged by hand meanwhile",
          "[grub][trial]") {
  Node n;
  stage_b(n, 1);
  CHECK(n.boot().booted == "B");
  // The revert's boot dies before the init; then someone copies in an image.
  auto dies = n.boot(Reach::kKernelDies);
  CHECK(dies.kernel == "A");
  CHECK(n.trial().phase == grub::Phase::kReverting);
  n.put(kNew, "C");
  auto r = n.boot();
  CHECK(r.kernel == "A");
  CHECK(has_arg(r.grub, "imgroot.revert=1"));
  CHECK(r.booted == "A");
  CHECK(n.content(kBroken) == "B");
  CHECK(n.content(kNew) == "C");  // the revert goes first; the staged image waits
  CHECK(n.boot().booted == "C");
  CHECK(n.trial().phase == grub::Phase::kNone);
}

TEST_CASE("a staged image on a partition without a current image is given up for the old one",
          "[grub][trial]") {
  Node n;
  n.put({{kOld, "Z"}, {kNew, "B"}});
  n.stage_trial(1);
  CHECK(n.boot(Reach::kKernelDies).kernel == "B");
  auto r = n.boot();
  CHECK(r.kernel == "Z");
  CHECK(r.booted == "Z");
  CHECK(r.agreed);
}

TEST_CASE("a power cut in any boot never runs the image on trial more than N times",
          "[grub][trial][crash]") {
  const int tries = 3;
  // Which boot fails, and how: -1 the kernel dies before the init, k >= 0
  // the power fails after k of the init's renames.
  for (int failing = 0; failing < tries + 3; ++failing) {
    for (int cut = -1; cut <= 4; ++cut) {
      INFO("boot " << failing << " fails " << (cut < 0 ? "before the init" : "after rename " + std::to_string(cut)));
      Node n;
      stage_b(n, tries);
      int b_kernels = 0;
      std::string last;
      for (int boot = 0; boot < 12; ++boot) {
        rot::CrashAfter crash{cut};
        Node::Result r = boot != failing ? n.boot()
                         : cut < 0       ? n.boot(Reach::kKernelDies)
                                         : n.boot(Reach::kUserspace, &crash);
        if (r.kernel == "B") ++b_kernels;
        if (!r.booted.empty()) {
          CHECK(r.agreed);
          last = r.booted;
        }
        // No image is ever lost.
        auto images = n.images();
        CHECK(images.count("A") >= 1);
        CHECK(images.count("B") >= 1);
      }
      CHECK(b_kernels <= tries);
      CHECK(last == "A");
      CHECK(n.trial().phase == grub::Phase::kNone);
    }
  }
}

TEST_CASE("a revert asked for with system-revert goes first and the staged image's trial waits",
          "[grub][trial]") {
  Node n;
  n.put({{kCurrent, "X"}, {kOld, "A"}, {kNew, "B"}, {kRevertFlag, ""}});
  n.stage_trial(2);
  auto first = n.boot();
  CHECK(first.kernel == "A");
  CHECK(first.booted == "A");
  CHECK(n.trial().tries_left == 2);
  CHECK(n.boot().booted == "B");
  CHECK(n.boot().booted == "B");
  auto back = n.boot();
  CHECK(back.kernel == "A");
  CHECK(back.booted == "A");
}

TEST_CASE("when grubenv cannot be written, the image on trial is not booted uncounted",
          "[grub][trial]") {
  Node n;
  stage_b(n, 3);
  n.env_writable = false;
  auto r = n.boot();
  CHECK(r.kernel == "A");
  CHECK(has_arg(r.grub, "imgroot.unstage=1"));
  CHECK(r.agreed);
  bool said = false;
  for (const auto& line : n.sim().echoed()) said = said || line.find("cannot save") != std::string::npos;
  CHECK(said);
}

TEST_CASE("without grubenv there is no trial and the staged image boots", "[grub][trial]") {
  Node n;
  stage_b(n, 3);
  n.remove_grubenv();
  auto r = n.boot();
  CHECK(r.kernel == "B");
  CHECK(r.booted == "B");
}

TEST_CASE("a counter GRUB cannot count down gives the image up at once", "[grub][trial]") {
  Node n;
  stage_b(n, 3);
  n.set_env(grub::kTriesVar, "x");
  auto r = n.boot();
  CHECK(r.kernel == "A");
  CHECK(has_arg(r.grub, "imgroot.unstage=1"));
}

TEST_CASE("when GRUB cannot load the chosen kernel the same entry gives that image up and boots the next",
          "[grub]") {
  Node n;
  n.put({{kCurrent, "A"}, {kNew, "B"}});
  n.unloadable = {kNew};
  auto r = n.boot();
  CHECK(r.grub.entry == "imgroot");
  check_boots(r, "A", {"imgroot.unstage=1", "imgroot.broken=hn-root-new.img"});
  CHECK(n.content(kBroken) == "B");
  CHECK(n.trial().phase == grub::Phase::kDiscarding);
  n.unloadable.clear();
  CHECK(n.boot().booted == "A");
  CHECK(n.trial().phase == grub::Phase::kNone);

  Node current;
  current.put({{kCurrent, "B"}, {kOld, "A"}});
  current.unloadable = {kCurrent};
  check_boots(current.boot(), "A", {"imgroot.revert=1", "imgroot.broken=hn-root.img"});

  // A revert to an old image GRUB cannot load: the current image boots,
  // and the init drops the flag instead of reverting to what GRUB gave up.
  Node flagged;
  flagged.put({{kCurrent, "A"}, {kOld, "Z"}, {kRevertFlag, ""}});
  flagged.unloadable = {kOld};
  check_boots(flagged.boot(), "A", {"imgroot.broken=hn-root-old.img"});
  CHECK_FALSE(flagged.has(kRevertFlag));
  CHECK(flagged.content(kBroken) == "Z");
}

TEST_CASE("two images GRUB cannot load in one boot: the third boots, and the init agrees",
          "[grub]") {
  Node n;
  n.put({{kCurrent, "B"}, {kOld, "A"}, {kNew, "C"}});
  n.unloadable = {kNew, kCurrent};
  check_boots(n.boot(), "A", {"imgroot.broken=hn-root-new.img", "imgroot.broken=hn-root.img"});
  CHECK_FALSE(n.has(kNew));
  CHECK_FALSE(n.has(kOld));
}

TEST_CASE("the fallback entry is named by number, the only form GRUB 2.06 reads", "[grub]") {
  Node n;
  stage_b(n, 3);
  n.boot();
  const auto& entries = n.sim().entries();
  REQUIRE(entries.size() >= 2);
  CHECK(entries[1] == "imgroot-fallback");
  CHECK(n.sim().var("fallback") == "1");
}

// What can stand under an image name: what an operator, an old tool, bit
// rot or a copy by hand leaves there.
enum class Kind { kAbsent, kGood, kGarbage, kDirectory, kSymlink, kTruncated };
constexpr Kind kKinds[] = {Kind::kAbsent,    Kind::kGood,    Kind::kGarbage,
                           Kind::kDirectory, Kind::kSymlink, Kind::kTruncated};

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kAbsent: return "absent";
    case Kind::kGood: return "good";
    case Kind::kGarbage: return "garbage";
    case Kind::kDirectory: return "directory";
    case Kind::kSymlink: return "symlink";
    case Kind::kTruncated: return "truncated";
  }
  return "?";
}

// Images are files whose content says what they are: "good:X" boots;
// "garbage" is no filesystem (GRUB cannot load it, the kernel cannot mount
// it); "truncated:X" has its kernel early enough for GRUB to load, but the
// kernel refuses the filesystem (its size is wrong). A symlink points to a
// good image elsewhere on the host partition: GRUB follows it, the init never.
void put_kind(Node& n, const char* name, Kind kind, const std::string& letter) {
  switch (kind) {
    case Kind::kAbsent: return;
    case Kind::kGood: return n.put(name, "good:" + letter);
    case Kind::kGarbage: return n.put(name, "garbage");
    case Kind::kTruncated: return n.put(name, "truncated:" + letter);
    case Kind::kDirectory:
      REQUIRE(::mkdirat(n.dir(), name, 0755) == 0);
      REQUIRE(write_file_atomic_at(Fd::open_at(n.dir(), name, O_RDONLY | O_DIRECTORY).value().get(),
                                   "inside", "x"));
      return;
    case Kind::kSymlink:
      (void)::mkdirat(n.dir(), "data", 0755);  // EEXIST for the second link
      REQUIRE(write_file_atomic_at(Fd::open_at(n.dir(), "data", O_RDONLY | O_DIRECTORY).value().get(),
                                   "elsewhere-" + letter + ".img", "good:S" + letter));
      REQUIRE(::symlinkat(("data/elsewhere-" + letter + ".img").c_str(), n.dir(), name) == 0);
      return;
  }
}

bool bootable(const std::string& content) { return content.starts_with("good:"); }

bool classify_regular(const Node& n, const char* name) {
  struct stat st {};
  return ::fstatat(n.dir(), name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

TEST_CASE("every combination of odd entries under the four names boots a good image when one "
          "exists, with its own kernel, and loses none",
          "[grub][rotation][matrix]") {
  const char* names[] = {kNew, kCurrent, kOld, kBroken};
  const std::string letters[] = {"N", "C", "O", "B"};
  int combinations = 0;
  for (int code = 0; code < 6 * 6 * 6 * 6; ++code) {
    for (bool flag : {false, true}) {
      Node n(std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path());
      std::string description;
      std::set<std::string> good_images;  // the letters of the good images under boot names
      for (int i = 0, c = code; i < 4; ++i, c /= 6) {
        const Kind kind = kKinds[c % 6];
        put_kind(n, names[i], kind, letters[i]);
        description += std::string(names[i]) + "=" + kind_name(kind) + " ";
        if (kind == Kind::kGood && i < 3) good_images.insert("good:" + letters[i]);
      }
      if (flag) n.put(kRevertFlag, "");
      INFO(description << (flag ? "system-revert" : ""));
      ++combinations;

      // Boot as the node would: GRUB, the init's rotation, its mount (which
      // falls back while the current image is not bootable) and the reboot
      // once, marked, when the kernel is not the booting image's own.
      bool marker = false, upgraded = false;
      std::string booted, kernel;
      for (int boot = 0; boot < 4 && booted.empty(); ++boot) {
        const bool staged_file = classify_regular(n, kNew);
        // GRUB cannot load garbage, under whatever name it is now.
        n.unloadable.clear();
        for (const char* name : names)
          if (n.content(name) == "garbage") n.unloadable.insert(name);
        auto r = n.boot();
        UNSCOPED_INFO("boot " << boot << ": GRUB loaded " << r.grub.image << " ["
                              << r.grub.cmdline() << "], the init agreed: " << r.agreed);
        if (r.grub.image.empty()) break;  // GRUB loaded nothing
        if (staged_file && r.outcome_action == rot::Action::kUpgrade) upgraded = true;
        const BootConfig config = parse_cmdline(r.grub.cmdline()).config;
        if (!r.agreed) {
          if (!marker) {
            marker = true;
            continue;  // the init reboots once for the mismatch
          }
          marker = false;
        } else {
          marker = false;
        }
        bool fell_back = false;
        for (int i = 0; i < rot::kMaxFallBacks && !bootable(n.content(kCurrent)); ++i) {
          if (!rot::fall_back(n.dir(), nullptr, holds_filesystem)) break;
          fell_back = true;
        }
        if (!bootable(n.content(kCurrent))) break;  // nothing the kernel can mount
        if (fell_back && config.image && !marker) {
          marker = true;
          continue;  // rebooted once so GRUB loads the fallen-back image's kernel
        }
        booted = n.content(kCurrent);
        kernel = r.kernel;
      }
      if (!good_images.empty()) {
        REQUIRE(booted != "");
        CHECK(kernel == booted);
        CHECK(good_images.count(booted));
      }
      // No good image is lost but the old one an upgrade makes room for:
      // an upgrade's first step keeps the current image as the old one, and
      // a staged image the kernel then cannot mount falls back to it.
      auto left = n.images();
      for (const auto& image : good_images) {
        if (image == "good:O" && upgraded) continue;
        CHECK(left.count(image));
      }
    }
  }
  CHECK(combinations == 2592);
}

TEST_CASE("without a revert pending, every menu entry boots the kernel of the image that boots",
          "[grub]") {
  for (int mask = 1; mask < 8; ++mask) {
    std::vector<std::string> ids;
    {
      Node probe;
      probe.put_mask(mask);
      probe.boot();
      ids = probe.sim().entries();
    }
    for (const auto& id : ids) {
      INFO("files mask " << mask << ", entry " << id);
      Node n;
      n.put_mask(mask);
      auto r = n.boot(Reach::kUserspace, nullptr, id);
      CHECK(r.kernel == r.booted);
      CHECK(r.agreed);
    }
  }
}

TEST_CASE("the menu offers the current, old and staged images that exist", "[grub]") {
  Node n;
  n.put({{kCurrent, "A"}, {kOld, "Z"}, {kNew, "B"}});
  n.boot();
  CHECK(n.sim().entries() == std::vector<std::string>{"imgroot", "imgroot-fallback",
                                                      "imgroot-current", "imgroot-old",
                                                      "imgroot-staged"});
  Node only;
  only.put(kCurrent, "A");
  only.boot();
  CHECK(only.sim().entries() == std::vector<std::string>{"imgroot", "imgroot-current"});
}

TEST_CASE("settings: timeout and cmdline lines, comments, and errors with a line number",
          "[grub]") {
  grub::ConfigOptions options;
  REQUIRE(grub::apply_settings("# imgroot grub settings\n\ntimeout = 2\ncmdline = console=ttyS0 quiet\n",
                               options));
  CHECK(options.timeout == 2);
  CHECK(options.cmdline == "console=ttyS0 quiet");
  auto unknown = grub::apply_settings("timeout=1\nfoo=bar\n", options);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message == "line 2: unknown setting 'foo' (known: timeout, cmdline)");
  CHECK_FALSE(grub::apply_settings("timeout = soon\n", options));
  CHECK_FALSE(grub::apply_settings("timeout = 99999\n", options));
  CHECK_FALSE(grub::apply_settings("just words\n", options));
}

TEST_CASE("the timeout is set by grub.cfg but not by the grub.d snippet", "[grub]") {
  grub::ConfigOptions options;
  options.timeout = 7;
  CHECK(script(options).find("\nset timeout=7\n") != std::string::npos);
  options.snippet = true;
  CHECK(script(options).find("set timeout") == std::string::npos);
}

TEST_CASE("kernel arguments GRUB could not be given literally are refused", "[grub]") {
  grub::ConfigOptions options;
  options.cmdline = "quiet it's";
  auto quote = grub::generate_config(options, "test");
  REQUIRE_FALSE(quote);
  CHECK(quote.error().message.find("single quote") != std::string::npos);
  options.cmdline = "a\nb";
  CHECK_FALSE(grub::generate_config(options, "test"));
  options.cmdline = "a=\"b c\" $x \\y";
  CHECK(grub::generate_config(options, "test"));
}

TEST_CASE("grub-script-check accepts grub.cfg and the grub.d snippet", "[grub]") {
  if (run("command -v grub-script-check").status != 0) {
    WARN("skipped: grub-script-check is not installed (Debian package grub-common)");
    return;
  }
  TempDir dir;
  for (bool snippet : {false, true}) {
    grub::ConfigOptions options;
    options.snippet = snippet;
    options.cmdline = "console=ttyS0 a=\"b c\" $x";
    write_text(dir / "grub.cfg", script(options));
    auto r = run("grub-script-check " + shell_quote(dir / "grub.cfg"));
    INFO(r.output);
    CHECK(r.status == 0);
  }
}
