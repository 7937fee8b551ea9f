// state.json and the status report's JSON: lib/state/json.cc. The input
// is read as a state file, and drives the fields of a status report.
#include <fuzzer/FuzzedDataProvider.h>

#include <nlohmann/json.hpp>
#include <string>

#include "base/layout.h"
#include "fuzz.h"
#include "state/state_file.h"
#include "state/status.h"

using namespace imgroot;
using namespace imgroot::state;
using imgroot::fuzz::check;

namespace {

bool same(const ImageRecord& a, const ImageRecord& b) {
  return a.inode == b.inode && a.size == b.size && a.mtime_ns == b.mtime_ns && a.sha256 == b.sha256 &&
         a.reflinked == b.reflinked && a.source == b.source && a.staged_at == b.staged_at &&
         a.assessment == b.assessment && a.assessed_at == b.assessed_at;
}

// JSON can carry the string as it is (the writer replaces invalid UTF-8).
bool utf8(const std::string& s) {
  try {
    (void)nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

void check_state(std::string_view text) {
  auto state = state_from_json(std::string(text));
  if (!state) {
    check(state.error().message.starts_with("not a valid state file") ||
              state.error().message.starts_with("unsupported version"),
          "a refused state file says why");
    return;
  }
  // Strings parsed from JSON are valid UTF-8, so the trip is exact.
  const std::string written = state_to_json(*state);
  auto back = state_from_json(written);
  check(bool(back), "a written state parses");
  check(back->images.size() == state->images.size(), "the trip keeps every record");
  for (std::size_t i = 0; i < state->images.size(); ++i)
    check(same(back->images[i], state->images[i]), "the trip keeps each field");
  check(state_to_json(*back) == written, "writing is a fixed point");
}

std::optional<std::string> maybe(FuzzedDataProvider& in) {
  if (!in.ConsumeBool()) return std::nullopt;
  return in.ConsumeRandomLengthString(64);
}

void check_status(FuzzedDataProvider& in) {
  HostStatus s;
  s.hostpart = in.ConsumeRandomLengthString(64);
  // As read_status fills them in: a backing file only for a root device,
  // an image name only for a backing file on this host partition.
  s.booted.kernel_image = maybe(in);
  s.booted.root_device = maybe(in);
  if (s.booted.root_device) s.booted.backing_file = maybe(in);
  if (s.booted.backing_file) s.booted.image = maybe(in);
  s.booted.from_this_hostpart = s.booted.image.has_value();
  // Always the four images, by their names (read_status makes them so).
  using namespace host_files;
  const std::pair<const char*, const char*> images[] = {
      {kCurrent, "current"}, {kNew, "staged"}, {kOld, "old"}, {kBroken, "broken"}};
  for (const auto& [name, role] : images) {
    ImageStatus img;
    img.name = name;
    img.role = role;
    img.present = in.ConsumeBool();
    img.size = in.ConsumeIntegral<std::uint64_t>();
    img.mtime = in.ConsumeIntegral<std::int64_t>();
    if (in.ConsumeBool()) {
      ImageRecord r;
      r.sha256 = in.ConsumeRandomLengthString(64);
      r.reflinked = in.ConsumeBool();
      r.source = in.ConsumeRandomLengthString(64);
      r.staged_at = in.ConsumeRandomLengthString(32);
      r.assessment = in.PickValueInArray({Assessment::kNone, Assessment::kGood, Assessment::kBad});
      img.record = r;
    }
    img.modified_since_staged = in.ConsumeBool();
    s.images.push_back(std::move(img));
  }
  s.staged = in.ConsumeBool();
  s.revert_pending = in.ConsumeBool();
  s.next_boot_image = maybe(in);
  s.next_boot_action = in.PickValueInArray(
      {rotation::Action::kNone, rotation::Action::kUpgrade, rotation::Action::kRevert});
  s.assessed_image = maybe(in);
  s.assessment = in.PickValueInArray({Assessment::kNone, Assessment::kGood, Assessment::kBad});
  s.removed_stale_partial = in.ConsumeBool();
  if (in.ConsumeBool()) {
    grub::Trial t;
    t.phase = in.PickValueInArray({grub::Phase::kNone, grub::Phase::kCounting, grub::Phase::kReverting,
                                   grub::Phase::kDiscarding});
    if (in.ConsumeBool()) t.tries_left = in.ConsumeIntegralInRange(0, 9);
    s.trial = t;
  }
  s.host_identity_files = in.ConsumeIntegral<int>();
  if (in.ConsumeBool()) {
    RunningOverlay o;
    o.mode = in.PickValueInArray({Overlay::kNone, Overlay::kTmpfs, Overlay::kPersistent});
    if (in.ConsumeBool()) o.root_is_overlay = in.ConsumeBool();
    s.overlay = o;
  }

  const std::string text = status_to_json(s);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    check(false, "the status report is JSON");
  }
  check(j.at("schema") == 1, "the report has its schema number");
  check(j.at("images").size() == 4, "the report lists the four images");
  if (utf8(s.hostpart)) check(j.at("hostpart") == s.hostpart, "the host partition is reported as it is");
  for (std::size_t i = 0; i < 4; ++i) {
    const auto& img = j.at("images")[i];
    check(img.at("present") == s.images[i].present, "each image's presence is reported");
    if (s.images[i].present) check(img.at("size") == s.images[i].size, "each present image's size is reported");
    check(img.at("name") == s.images[i].name, "each image's name is reported");
  }
  check(!status_to_text(s).empty(), "the text form says something");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_state(fuzz::as_text(data, size));
  FuzzedDataProvider in(data, size);
  check_status(in);
  return 0;
}
