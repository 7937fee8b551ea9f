// The one file that adapts nlohmann::json for `imgroot diff`. Strings are
// escaped first (diff/text.h), so they are valid UTF-8 and dump() cannot throw.
#include "diff/json.h"

#include <nlohmann/json.hpp>

#include "base/names.h"
#include "diff/text.h"

namespace imgroot::diff {

namespace {

// Keys in the order written: path and change first, where a reader looks.
using json = nlohmann::ordered_json;

constexpr int kSchema = 1;

const char* kind_name(Kind kind) {
  constexpr EnumName<Kind> kNames[] = {
      {Kind::kAdded, "added"}, {Kind::kRemoved, "removed"}, {Kind::kChanged, "changed"}};
  return enum_name(kNames, kind);
}

json node_json(const Node& n, const std::string& sha256) {
  json j = {{"type", type_name(n.type)}, {"mode", octal_mode(n.perm)}, {"uid", n.uid},
            {"gid", n.gid}};
  if (n.type == FileType::kFile) j["size"] = n.size;
  if (!sha256.empty()) j["sha256"] = sha256;
  if (n.type != FileType::kDir) j["nlink"] = n.nlink;
  if (n.type == FileType::kSymlink) j["target"] = escape(n.target);
  if (n.type == FileType::kChar || n.type == FileType::kBlock)
    j["device"] = {{"major", n.major}, {"minor", n.minor}};
  json names = json::array();
  for (const auto& x : n.xattrs) names.push_back(escape(x.name));
  j["xattrs"] = names;
  return j;
}

json set_json(const std::vector<SetChange>& changes, bool with_changed) {
  json j = {{"added", json::array()}, {"removed", json::array()}};
  if (with_changed) j["changed"] = json::array();
  for (const auto& [sign, name] : changes)
    j[sign == '+' ? "added" : sign == '-' ? "removed" : "changed"].push_back(escape(name));
  return j;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::string JsonReport::begin() const {
  return "{\"schema\": " + std::to_string(kSchema) + ", \"entries\": [";
}

std::string JsonReport::entry(const Entry& e) {
  json j = {{"path", escape(e.path)}, {"change", kind_name(e.kind)}};
  if (e.kind == Kind::kChanged) {
    json aspects = json::array();
    for (std::size_t i = 0; i < kAspectCount; ++i)
      if (e.has(static_cast<Aspect>(i))) aspects.push_back(aspect_name(static_cast<Aspect>(i)));
    j["aspects"] = aspects;
  }
  if (e.a) j["a"] = node_json(*e.a, e.sha256_a);
  if (e.b) j["b"] = node_json(*e.b, e.sha256_b);
  if (e.has(Aspect::kXattrs)) j["xattrs"] = set_json(e.xattrs, true);
  if (e.has(Aspect::kLinks)) j["links"] = set_json(e.links, false);
  std::string out = first_ ? "\n" : ",\n";
  first_ = false;
  return out + dump(j);
}

std::string JsonReport::end(const Summary& s) const {
  json aspects = json::object();
  for (std::size_t i = 0; i < kAspectCount; ++i)
    aspects[aspect_name(static_cast<Aspect>(i))] = s.by_aspect[i];
  json summary = {{"added", s.added},
                  {"removed", s.removed},
                  {"changed", s.changed},
                  {"compared", s.compared},
                  {"aspects", aspects}};
  return std::string(first_ ? "" : "\n") + "], \"summary\": " + dump(summary) + "}\n";
}

}  // namespace imgroot::diff
