#include "release/on_node.h"

#include <sys/stat.h>

#include "base/layout.h"
#include "state/state_file.h"
#include "system/file.h"

namespace imgroot::release {

Result<OnNode> image_on_node(int hostpart, const std::string& sha256) {
  if (sha256.empty()) return OnNode::kAbsent;
  auto state = state::load_state(hostpart);
  if (!state) return std::unexpected(state.error());
  // Whether the file is there, and whether it is the image.
  struct Found {
    bool present = false;
    bool holds = false;
  };
  auto look = [&](const char* name) -> Result<Found> {
    auto st = stat_at(hostpart, name);
    if (!st) return std::unexpected(st.error());
    if (!*st) return Found{};
    const state::ImageRecord* r = state->find(**st);
    return Found{true, r && r->sha256 == sha256};
  };
  auto staged = look(host_files::kNew);
  if (!staged) return std::unexpected(staged.error());
  if (staged->holds) return OnNode::kStaged;
  auto revert = stat_at(hostpart, host_files::kRevertFlag);
  if (!revert) return std::unexpected(revert.error());
  if (staged->present || *revert) return OnNode::kAbsent;
  auto current = look(host_files::kCurrent);
  if (!current) return std::unexpected(current.error());
  return current->holds ? OnNode::kCurrent : OnNode::kAbsent;
}

const char* on_node_name(OnNode where) {
  switch (where) {
    case OnNode::kCurrent: return "current";
    case OnNode::kStaged: return "staged";
    case OnNode::kAbsent: break;
  }
  return "";
}

}  // namespace imgroot::release
