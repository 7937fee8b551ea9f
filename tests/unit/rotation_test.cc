// Rotation on a temporary directory, including a power cut after every
// single step of every rotation followed by the next boot's recovery. The
// scenarios are the rows of tests/scenarios/rotation.tsv that the QEMU boot
// and dracut tests boot too.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/layout.h"
#include "boot/rotation.h"
#include "system/fd.h"
#include "system/file.h"

using namespace imgroot;
using namespace imgroot::host_files;
namespace rot = imgroot::rotation;

using Files = std::map<std::string, std::string>;

namespace Catch {
template <>
struct StringMaker<Files> {
  static std::string convert(const Files& files) {
    std::string out = "{";
    for (const auto& [name, content] : files) out += " " + name + "=" + content;
    return out + " }";
  }
};
}  // namespace Catch

namespace {

// A host partition directory whose images are small files with distinct
// contents, so "which image is where" is a string comparison.
class HostDir {
 public:
  // A directory holding 'files' (name -> content).
  explicit HostDir(const Files& files = {}) {
    char tmpl[] = "/tmp/imgroot-rotation-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    path_ = tmpl;
    fd_ = std::move(Fd::open_dir(path_).value());
    for (const auto& [name, content] : files) put(name, content);
  }
  ~HostDir() { (void)std::system(("rm -rf '" + path_ + "'").c_str()); }

  int fd() const { return fd_.get(); }

  void put(const std::string& name, const std::string& content) {
    REQUIRE(write_file_atomic_at(fd(), name, content));
  }

  // name -> content of every file in the directory.
  std::map<std::string, std::string> files() const {
    std::map<std::string, std::string> out;
    const auto names = list_dir(fd()).value();
    for (const auto& name : names) out[name] = read_file_at(fd(), name).value();
    return out;
  }

 private:
  std::string path_;
  Fd fd_;
};


const std::vector<std::string> kImageNames = {kCurrent, kNew, kOld, kBroken};

std::set<std::string> images_in(const Files& files) {
  std::set<std::string> out;
  for (const auto& name : kImageNames)
    if (auto it = files.find(name); it != files.end()) out.insert(it->second);
  return out;
}

rot::HostState state_of(const HostDir& dir) { return rot::read_state(dir.fd()).value(); }

// A row of tests/scenarios/rotation.tsv for the unit suite; the images are
// the file contents.
struct Scenario {
  std::string name;
  std::string says;  // the sentence the sections are named by
  Files before;
  bool revert_requested;  // imgroot.revert=1 on the command line
  std::string boots;      // the image that boots
  Files after;            // the result of an uninterrupted rotation
  // Another end state a power cut may lead to, where the rules allow it.
  std::optional<Files> also_after;
  std::set<std::string> dropped;  // images a completed rotation replaces on purpose
};

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string part; std::getline(in, part, sep);)
    if (!part.empty()) out.push_back(part);
  return out;
}

// "FILE=IMAGE FILE ..." (a flag file has no image: empty content); "-": none.
Files files_of(const std::string& field) {
  Files out;
  if (field == "-") return out;
  for (const auto& entry : split(field, ' ')) {
    const auto eq = entry.find('=');
    out[entry.substr(0, eq)] = eq == std::string::npos ? "" : entry.substr(eq + 1);
  }
  return out;
}

// The table's rows (its lines but comments), each split into its fields.
std::vector<std::vector<std::string>> table_rows() {
  std::ifstream in(IMGROOT_ROTATION_TABLE);
  REQUIRE(in);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line.front() != '#') rows.push_back(split(line, '\t'));
  return rows;
}

bool runs_in(const std::vector<std::string>& row, const std::string& suite) {
  const auto suites = split(row.at(1), ',');
  return std::find(suites.begin(), suites.end(), suite) != suites.end();
}

std::vector<Scenario> read_table() {
  std::vector<Scenario> out;
  for (const auto& f : table_rows()) {
    REQUIRE(f.size() == 8);
    if (!runs_in(f, "unit")) continue;
    Scenario s{f[0], f[7], files_of(f[2]), f[3].find("imgroot.revert=1") != std::string::npos,
               f[4], files_of(f[5]), std::nullopt, {}};
    if (f[6] != "-") s.also_after = files_of(f[6]);
    const auto kept = images_in(s.after);
    for (const auto& image : images_in(s.before))
      if (!kept.count(image)) s.dropped.insert(image);
    out.push_back(std::move(s));
  }
  REQUIRE_FALSE(out.empty());
  return out;
}

const std::vector<Scenario>& scenarios() {
  static const std::vector<Scenario> all = read_table();
  return all;
}

// What the init does at boot, by content: an image "corrupt" has no
// filesystem, so the check rejects it; an image "X" has no /sbin/init, so
// it mounts and the init falls back from it.
void boot(HostDir& dir, bool revert_requested) {
  const auto has_filesystem = [](int d, const char* name) {
    return read_file_at(d, name).value() != "corrupt";
  };
  REQUIRE(rot::rotate(dir.fd(), revert_requested, nullptr, has_filesystem));
  if (read_file_at(dir.fd(), kCurrent).value() == "X") REQUIRE(rot::fall_back(dir.fd()));
}

// What a directory holding 'before' holds after fall_back(), which succeeds.
Files fallen_back(const Files& before) {
  HostDir dir(before);
  REQUIRE(rot::fall_back(dir.fd()));
  return dir.files();
}

// Whether GRUB, before the rotation, loads the kernel of the image that
// boots: not where the init falls back or gives up an image.
bool grub_loads_what_boots(const Scenario& s) {
  const HostDir dir(s.before);
  const auto choice = rot::boot_choice(state_of(dir), s.revert_requested);
  return choice && s.before.at(*choice) == s.boots;
}

}  // namespace

TEST_CASE("an uninterrupted rotation ends in the documented state", "[rotation]") {
  for (const auto& s : scenarios()) {
    DYNAMIC_SECTION(s.name << ": " << s.says) {
      HostDir dir(s.before);
      boot(dir, s.revert_requested);
      CHECK(dir.files() == s.after);
    }
  }
}

TEST_CASE("every line of the rotation table has its eight fields and runs somewhere", "[rotation][table]") {
  const auto rows = table_rows();
  REQUIRE(rows.size() >= 8);
  std::set<std::string> names;
  for (const auto& row : rows) {
    INFO(row.at(0));
    REQUIRE(row.size() == 8);
    CHECK(names.insert(row[0]).second);
    CHECK((runs_in(row, "unit") || runs_in(row, "boot") || runs_in(row, "dracut")));
    // A QEMU test asserts the files after a boot: the image that boots is the current one.
    CHECK(files_of(row[5]).at(kCurrent) == row[4]);
  }
}

TEST_CASE("every scenario the QEMU tests boot is rotated by the unit tests too", "[rotation][table]") {
  for (const auto& row : table_rows()) {
    INFO(row.at(0));
    if (runs_in(row, "boot") || runs_in(row, "dracut")) CHECK(runs_in(row, "unit"));
  }
}

TEST_CASE("a second rotation after a completed one changes nothing", "[rotation]") {
  for (const auto& s : scenarios()) {
    DYNAMIC_SECTION(s.name << ": " << s.says) {
      HostDir dir(s.before);
      boot(dir, s.revert_requested);
      auto again = rot::rotate(dir.fd(), false);
      REQUIRE(again);
      // A revert with an image staged leaves it staged: that one upgrades next.
      if (s.after.count(kNew)) {
        CHECK(again->action == rot::Action::kUpgrade);
      } else {
        CHECK(again->action == rot::Action::kNone);
        CHECK(again->steps.empty());
        CHECK(dir.files() == s.after);
      }
    }
  }
}

TEST_CASE("a power cut after any step of any rotation leaves a bootable state that the next boot completes",
          "[rotation][crash]") {
  for (const auto& s : scenarios()) {
    if (!grub_loads_what_boots(s)) continue;  // the init falls back: a second boot follows
    HostDir probe(s.before);
    const size_t total = rot::rotate(probe.fd(), s.revert_requested).value().steps.size();

    for (size_t cut = 0; cut < total; ++cut) {
      DYNAMIC_SECTION(s.name << ", power cut after step " << cut << " of " << total) {
        HostDir dir(s.before);
        rot::CrashAfter crash{static_cast<int>(cut)};
        auto cut_short = rot::rotate(dir.fd(), s.revert_requested, &crash);
        REQUIRE_FALSE(cut_short);
        CHECK_THAT(cut_short.error().message, Catch::Contains("simulated power cut"));

        // At the instant of the cut: no image lost, and GRUB has an image to load.
        const Files at_cut = dir.files();
        for (const auto& image : images_in(s.before))
          CHECK((images_in(at_cut).count(image) || s.dropped.count(image)));
        auto grub_loads = rot::boot_choice(state_of(dir), s.revert_requested);
        REQUIRE(grub_loads);
        const std::string kernel_from = at_cut.at(*grub_loads);

        boot(dir, s.revert_requested);

        // The image the init boots is the one whose kernel GRUB loaded.
        const Files after = dir.files();
        REQUIRE(after.count(kCurrent));
        CHECK(after.at(kCurrent) == kernel_from);
        // It ends as an uninterrupted rotation would, with no stray names.
        if (s.also_after && after == *s.also_after) {
          SUCCEED("ended in the allowed alternative state");
        } else {
          CHECK(after == s.after);
        }
        for (const auto& image : images_in(s.before))
          CHECK((images_in(after).count(image) || s.dropped.count(image)));
      }
    }
  }
}

TEST_CASE("an unbootable current image falls back to the old one and is kept as broken",
          "[rotation]") {
  CHECK(fallen_back({{kCurrent, "X"}, {kOld, "A"}}) == Files{{kCurrent, "A"}, {kBroken, "X"}});
}

TEST_CASE("a power cut while falling back leaves the next boot falling back to the same image",
          "[rotation][crash]") {
  HostDir probe(Files{{kCurrent, "X"}, {kOld, "A"}});
  const int total = static_cast<int>(rot::fall_back(probe.fd()).value().steps.size());
  REQUIRE(total >= 2);
  for (int cut = 0; cut < total; ++cut) {
    DYNAMIC_SECTION("power cut after step " << cut) {
      HostDir dir(Files{{kCurrent, "X"}, {kOld, "A"}});
      rot::CrashAfter crash{cut};
      REQUIRE_FALSE(rot::fall_back(dir.fd(), &crash));
      CHECK(images_in(dir.files()) == std::set<std::string>{"A", "X"});

      // The next boot: rotate, find X unbootable again, fall back.
      boot(dir, false);
      CHECK(dir.files() == Files{{kCurrent, "A"}, {kBroken, "X"}});
    }
  }
}

TEST_CASE("falling back with neither an old nor a staged image takes the broken one back",
          "[rotation]") {
  CHECK(fallen_back({{kCurrent, "X"}, {kBroken, "B"}}) == Files{{kCurrent, "B"}, {kBroken, "X"}});
}

TEST_CASE("falling back to a staged image upgrades to it", "[rotation]") {
  CHECK(fallen_back({{kCurrent, "X"}, {kNew, "N"}, {kOld, "A"}}) ==
        Files{{kCurrent, "N"}, {kOld, "A"}, {kBroken, "X"}});
}

TEST_CASE("falling back without an old image is an error that names it", "[rotation]") {
  HostDir dir(Files{{kCurrent, "X"}});
  auto outcome = rot::fall_back(dir.fd());
  REQUIRE_FALSE(outcome);
  CHECK_THAT(outcome.error().message, Catch::Contains(kOld));
  CHECK(dir.files() == Files{{kCurrent, "X"}});
}

TEST_CASE("GRUB's choice follows the documented precedence", "[rotation]") {
  rot::HostState s;
  CHECK_FALSE(rot::boot_choice(s, false));
  s.current = true;
  CHECK(rot::boot_choice(s, false) == kCurrent);
  CHECK(rot::boot_choice(s, true) == kCurrent);  // nothing to revert to
  s.old = true;
  CHECK(rot::boot_choice(s, false) == kCurrent);
  CHECK(rot::boot_choice(s, true) == kOld);
  s.staged = true;
  CHECK(rot::boot_choice(s, false) == kNew);
  s.revert_flag = true;
  CHECK(rot::boot_choice(s, false) == kOld);  // revert first, the staged image waits
  s = rot::HostState{};
  s.old = true;
  CHECK(rot::boot_choice(s, false) == kOld);  // last resort: whatever exists
}

TEST_CASE("giving up the staged image keeps it as broken and leaves the rest", "[rotation]") {
  HostDir dir(Files{{kCurrent, "B"}, {kOld, "A"}, {kNew, "N"}, {kBroken, "X"}});
  auto outcome = rot::discard_staged(dir.fd());
  REQUIRE(outcome);
  CHECK(outcome->steps == std::vector<std::string>{"hn-root-new.img -> hn-root-broken.img"});
  CHECK(dir.files() == Files{{kCurrent, "B"}, {kOld, "A"}, {kBroken, "N"}});
  // The next rotation then has nothing to do, and a second discard neither.
  CHECK(rot::discard_staged(dir.fd()).value().steps.empty());
  CHECK(rot::rotate(dir.fd(), false).value().chosen == kCurrent);
}

TEST_CASE("a power cut while giving up the staged image leaves it staged or given up",
          "[rotation][crash]") {
  HostDir dir(Files{{kCurrent, "B"}, {kNew, "N"}});
  rot::CrashAfter crash{0};
  REQUIRE_FALSE(rot::discard_staged(dir.fd(), &crash));
  CHECK(dir.files() == Files{{kCurrent, "B"}, {kNew, "N"}});
  REQUIRE(rot::discard_staged(dir.fd()));
  CHECK(dir.files() == Files{{kCurrent, "B"}, {kBroken, "N"}});
}

// Entries under image names that are no image file (issue: a node waited
// forever at the initramfs although a good image was right there).

TEST_CASE("a directory named hn-root-new.img is kept aside and the current image boots",
          "[rotation][odd]") {
  HostDir dir(Files{{kCurrent, "C"}});
  REQUIRE(::mkdirat(dir.fd(), kNew, 0755) == 0);
  auto outcome = rot::rotate(dir.fd(), false);
  REQUIRE(outcome);
  CHECK(outcome->chosen == kCurrent);
  CHECK(outcome->action == rot::Action::kNone);
  CHECK(read_file_at(dir.fd(), kCurrent).value() == "C");
  CHECK(exists_at(dir.fd(), std::string(kSetAsideDir) + "/" + kNew + ".1").value());
  CHECK_FALSE(exists_at(dir.fd(), kNew).value());
}

TEST_CASE("a directory named hn-root.img gives way to the old image, never linked",
          "[rotation][odd]") {
  HostDir dir(Files{{kOld, "A"}});
  REQUIRE(::mkdirat(dir.fd(), kCurrent, 0755) == 0);
  REQUIRE(::mkdirat(dir.fd(), (std::string(kCurrent) + "/inside").c_str(), 0755) == 0);
  auto outcome = rot::rotate(dir.fd(), false);
  REQUIRE(outcome);
  CHECK(read_file_at(dir.fd(), kCurrent).value() == "A");
  CHECK(exists_at(dir.fd(), std::string(kSetAsideDir) + "/" + kCurrent + ".1/inside").value());
}

TEST_CASE("a FIFO and a symlink under image names are never opened or followed",
          "[rotation][odd]") {
  HostDir dir(Files{{kCurrent, "C"}, {"elsewhere.img", "E"}});
  REQUIRE(::mkfifoat(dir.fd(), kNew, 0600) == 0);
  REQUIRE(::symlinkat("elsewhere.img", dir.fd(), kOld) == 0);
  auto state = rot::read_state(dir.fd()).value();
  CHECK_FALSE(state.staged);
  CHECK_FALSE(state.old);
  auto outcome = rot::rotate(dir.fd(), true);  // a revert to the symlink is no revert
  REQUIRE(outcome);
  CHECK(outcome->chosen == kCurrent);
  CHECK(read_file_at(dir.fd(), kCurrent).value() == "C");
  CHECK(read_file_at(dir.fd(), "elsewhere.img").value() == "E");
  CHECK(exists_at(dir.fd(), std::string(kSetAsideDir) + "/" + kNew + ".1").value());
  CHECK(exists_at(dir.fd(), std::string(kSetAsideDir) + "/" + kOld + ".1").value());
}

TEST_CASE("a staged name hard-linked to the current image is dropped, not upgraded to at every boot",
          "[rotation][odd]") {
  HostDir dir(Files{{kCurrent, "C"}, {kOld, "A"}});
  REQUIRE(link_at(dir.fd(), kCurrent, kNew));
  for (int boot = 0; boot < 2; ++boot) {
    auto outcome = rot::rotate(dir.fd(), false);
    REQUIRE(outcome);
    CHECK(outcome->chosen == kCurrent);
  }
  CHECK(dir.files() == Files{{kCurrent, "C"}, {kOld, "A"}});
}

TEST_CASE("an image file the check rejects is given up as broken before the rotation",
          "[rotation][odd]") {
  HostDir dir(Files{{kCurrent, "C"}, {kOld, "A"}, {kNew, "garbage"}});
  auto outcome = rot::rotate(dir.fd(), false, nullptr, [](int d, const char* name) {
    return read_file_at(d, name).value() != "garbage";
  });
  REQUIRE(outcome);
  CHECK(outcome->chosen == kCurrent);
  CHECK(dir.files() == Files{{kCurrent, "C"}, {kOld, "A"}, {kBroken, "garbage"}});
}
