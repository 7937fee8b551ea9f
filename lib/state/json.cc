// The one file that adapts nlohmann::json (which throws) for the state file
// and the status report.
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "state/event_log.h"
#include "state/state_file.h"
#include "state/status.h"

namespace imgroot::state {

namespace {

using nlohmann::json;

constexpr int kStateVersion = 1;
constexpr int kStatusSchema = 1;

json optional_string(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }
json nonempty_string(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

Assessment assessment_field(const std::string& s) {
  if (auto a = parse_assessment(s)) return *a;
  throw std::invalid_argument("unknown assessment '" + s + "'");
}

// An integer field that fits T. Not get<T>(): it converts a double (what
// nlohmann makes of an integer beyond 64 bits, or of 1e10) with undefined
// behaviour when out of range, wraps integers, and takes true for 1.
template <typename T>
T integer_field(const json& object, const char* key) {
  const json& v = object.at(key);
  using Limits = std::numeric_limits<T>;
  if (v.is_number_unsigned()) {
    auto n = v.get<std::uint64_t>();
    if (n <= static_cast<std::uint64_t>(Limits::max())) return static_cast<T>(n);
  } else if (v.is_number_integer()) {  // negative
    auto n = v.get<std::int64_t>();
    if constexpr (Limits::is_signed)
      if (n >= static_cast<std::int64_t>(Limits::min())) return static_cast<T>(n);
  }
  throw std::out_of_range("'" + std::string(key) + "' is " + v.dump() +
                          ", not an integer in the range of its field");
}

json release_json(const ImageRecord& r) {
  if (r.release.empty()) return nullptr;
  return {{"name", r.release}, {"version", r.release_version}, {"bytes_fetched", r.bytes_fetched},
          {"bytes_reused", r.bytes_reused}};
}

json image_json(const ImageStatus& img) {
  json j = {{"name", img.name}, {"role", img.role}, {"present", img.present}};
  j["size"] = img.present ? json(img.size) : json(nullptr);
  j["mtime"] = img.present ? json(format_rfc3339(img.mtime)) : json(nullptr);
  const ImageRecord* r = img.record ? &*img.record : nullptr;
  j["sha256"] = r ? nonempty_string(r->sha256) : json(nullptr);
  j["reflinked"] = r && r->staged() ? json(r->reflinked) : json(nullptr);
  j["modified_since_staged"] = r && r->staged() ? json(img.modified_since_staged) : json(nullptr);
  j["source"] = r ? nonempty_string(r->source) : json(nullptr);
  j["staged_at"] = r ? nonempty_string(r->staged_at) : json(nullptr);
  j["release"] = r ? release_json(*r) : json(nullptr);
  j["signed_by"] = r ? nonempty_string(r->signed_by) : json(nullptr);
  j["assessment"] = img.present ? json(assessment_name(r ? r->assessment : Assessment::kNone))
                                : json(nullptr);
  return j;
}

// Paths come from the filesystem and need not be UTF-8: never throw on them.
std::string dump(const json& j) {
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

json download_json(const HostStatus& s) {
  if (!s.download) return nullptr;
  const Download& d = *s.download;
  return {{"release", d.release}, {"url", d.url},           {"image_size", d.image_size},
          {"written", d.written}, {"complete", d.complete}, {"running", d.running}};
}

json trial_json(const HostStatus& s) {
  if (!s.trial) return nullptr;
  const grub::Trial& t = *s.trial;
  const bool on = t.phase != grub::Phase::kNone;
  return {{"phase", on ? grub::phase_value(t.phase) : "none"},
          {"tries_left", on && t.tries_left ? json(*t.tries_left) : json(nullptr)},
          {"image", optional_string(trial_image(s))}};
}

json overlay_json(const HostStatus& s) {
  if (!s.overlay) return nullptr;
  const RunningOverlay& o = *s.overlay;
  return {{"mode", overlay_name(o.mode)},
          {"root_is_overlay", o.root_is_overlay ? json(*o.root_is_overlay) : json(nullptr)}};
}

}  // namespace

std::string state_to_json(const StateFile& state) {
  json images = json::array();
  for (const auto& r : state.images) {
    images.push_back({{"inode", r.inode},
                      {"size", r.size},
                      {"mtime_ns", r.mtime_ns},
                      {"sha256", r.sha256},
                      {"reflinked", r.reflinked},
                      {"source", r.source},
                      {"release", release_json(r)},
                      {"signed_by", r.signed_by},
                      {"staged_at", r.staged_at},
                      {"assessment", assessment_name(r.assessment)},
                      {"assessed_at", r.assessed_at}});
  }
  json rejected = json::array();
  for (const auto& r : state.rejected)
    rejected.push_back({{"sha256", r.sha256},
                        {"source", r.source},
                        {"staged_at", r.staged_at},
                        {"given_up_at", r.given_up_at},
                        {"assessment", assessment_name(r.assessment)}});
  return dump({{"version", kStateVersion}, {"images", images}, {"rejected", rejected}});
}

Result<StateFile> state_from_json(const std::string& text) {
  try {
    json j = json::parse(text);
    if (integer_field<int>(j, "version") != kStateVersion)
      return fail("unsupported version " + j.at("version").dump());
    const json& images = j.at("images");
    if (!images.is_array()) throw std::invalid_argument("'images' is not an array");
    StateFile state;
    for (const auto& i : images) {
      ImageRecord r;
      r.inode = integer_field<std::uint64_t>(i, "inode");
      r.size = integer_field<std::uint64_t>(i, "size");
      r.mtime_ns = integer_field<std::int64_t>(i, "mtime_ns");
      r.sha256 = i.value("sha256", "");
      r.reflinked = i.value("reflinked", false);
      r.source = i.value("source", "");
      if (auto rel = i.find("release"); rel != i.end() && rel->is_object()) {
        r.release = rel->value("name", "");
        r.release_version = integer_field<std::uint64_t>(*rel, "version");
        r.bytes_fetched = integer_field<std::uint64_t>(*rel, "bytes_fetched");
        r.bytes_reused = integer_field<std::uint64_t>(*rel, "bytes_reused");
      }
      r.signed_by = i.value("signed_by", "");
      r.staged_at = i.value("staged_at", "");
      r.assessment = assessment_field(i.value("assessment", "unassessed"));
      r.assessed_at = i.value("assessed_at", "");
      state.images.push_back(std::move(r));
    }
    // Added in version 1 later: a file without it has none.
    if (j.contains("rejected")) {
      const json& rejected = j.at("rejected");
      if (!rejected.is_array()) throw std::invalid_argument("'rejected' is not an array");
      for (const auto& i : rejected) {
        Rejected r;
        r.sha256 = i.at("sha256").get<std::string>();
        r.source = i.value("source", "");
        r.staged_at = i.value("staged_at", "");
        r.given_up_at = i.value("given_up_at", "");
        r.assessment = assessment_field(i.value("assessment", "unassessed"));
        state.rejected.push_back(std::move(r));
      }
    }
    return state;
  } catch (const std::exception& e) {
    return fail(std::string("not a valid state file (") + e.what() + ")");
  }
}

std::string status_to_json(const HostStatus& s) {
  json images = json::array();
  for (const auto& img : s.images) images.push_back(image_json(img));
  const Booted& b = s.booted;
  json j = {
      {"schema", kStatusSchema},
      {"hostpart", s.hostpart},
      {"booted",
       {{"from_this_hostpart", b.from_this_hostpart},
        {"image", optional_string(b.image)},
        {"kernel_image", optional_string(b.kernel_image)},
        {"root_device", optional_string(b.root_device)},
        {"backing_file", optional_string(b.backing_file)}}},
      {"images", images},
      {"staged", s.staged},
      {"revert_pending", s.revert_pending},
      {"next_boot", {{"image", optional_string(s.next_boot_image)}, {"action", rotation::action_name(s.next_boot_action)}}},
      {"assessment",
       {{"image", optional_string(s.assessed_image)},
        {"state", s.assessed_image ? json(assessment_name(s.assessment)) : json(nullptr)}}},
      {"removed_stale_partial", s.removed_stale_partial},
      {"download", download_json(s)},
      {"trial", trial_json(s)},
      {"host_identity", {{"files", s.host_identity_files}}},
      {"overlay", overlay_json(s)},
      {"explanation", s.explanation},
  };
  return dump(j);
}

std::string event_to_json(const Event& e) {
  // Ordered: a line reads in the order its fields were added.
  nlohmann::ordered_json j = {{"time", e.time}, {"event", e.type}};
  for (const auto& [key, value] : e.fields)
    std::visit([&j, &key](const auto& v) { j[key] = v; }, value);
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

Result<Event> event_from_json(const std::string& line) {
  try {
    auto j = nlohmann::ordered_json::parse(line);
    if (!j.is_object()) return fail("an event is not a JSON object");
    Event e;
    e.time = j.at("time").get<std::string>();
    e.type = j.at("event").get<std::string>();
    for (const auto& [key, value] : j.items()) {
      if (key == "time" || key == "event") continue;
      if (value.is_string()) e.fields.emplace_back(key, value.get<std::string>());
      else if (value.is_boolean()) e.fields.emplace_back(key, value.get<bool>());
      else if (value.is_number_integer()) e.fields.emplace_back(key, value.get<std::int64_t>());
      else if (value.is_array()) e.fields.emplace_back(key, value.get<std::vector<std::string>>());
      else if (!value.is_null()) e.fields.emplace_back(key, value.dump());
    }
    return e;
  } catch (const std::exception& ex) {
    return fail(std::string("not an event (") + ex.what() + ")");
  }
}

}  // namespace imgroot::state
