#include "state/explain.h"

#include "base/layout.h"
#include "state/known_bad.h"

namespace imgroot::state {

namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// The failed checks of the last red verdict on the image with this SHA-256.
std::string last_failed(const std::vector<Event>& events, const std::string& sha256) {
  for (auto e = events.rbegin(); e != events.rend(); ++e)
    if (e->type == "verdict" && e->text("result") == "red" && e->text("sha256") == sha256)
      return joined(e->list("failed"));
  return {};
}

// How many boots its trial had, from its stage event; 0 when unknown.
std::int64_t trial_tries(const std::vector<Event>& events, const std::string& sha256) {
  for (auto e = events.rbegin(); e != events.rend(); ++e) {
    if (e->type != "stage" || e->text("sha256") != sha256) continue;
    for (const auto& [key, value] : e->fields)
      if (key == "tries")
        if (const auto* n = std::get_if<std::int64_t>(&value)) return *n;
    return 0;
  }
  return 0;
}

const ImageStatus* image_named(const HostStatus& s, const char* name) {
  for (const auto& img : s.images)
    if (img.name == name) return &img;
  return nullptr;
}

}  // namespace

std::vector<std::string> explain_rollback(const HostStatus& s, const StateFile& state,
                                          const std::vector<Event>& events) {
  std::vector<std::string> out;
  const ImageStatus* broken = image_named(s, host_files::kBroken);
  if (broken && broken->present && broken->record) {
    if (const Rejected* r = find_rejected(state, broken->record->sha256)) {
      std::string what = std::string(host_files::kBroken) + " (sha256 " + r->sha256.substr(0, 12) +
                         "..." + (r->source.empty() ? "" : ", from " + r->source) + ") was ";
      const auto tries = trial_tries(events, r->sha256);
      if (r->assessment == Assessment::kBad)
        what += "marked bad by its boot assessment";
      else
        what += "given up" +
                (tries > 0 ? " after " + std::to_string(tries) + " boots" : std::string()) +
                " without a good verdict";
      what += "; back on " + std::string(host_files::kCurrent) + " since " + r->given_up_at;
      if (auto failed = last_failed(events, r->sha256); !failed.empty())
        what += "; its last failed check: " + failed;
      out.push_back(what);
    }
  }
  if (s.assessed_image && s.assessment == Assessment::kBad) {
    const ImageStatus* running = image_named(s, s.assessed_image->c_str());
    std::string sha = running && running->record ? running->record->sha256 : "";
    std::string what = *s.assessed_image + " (running) is marked bad";
    if (auto failed = last_failed(events, sha); !sha.empty() && !failed.empty())
      what += "; failed: " + failed;
    out.push_back(what);
  }
  return out;
}

}  // namespace imgroot::state
