#include "diff/links.h"

#include <algorithm>

namespace imgroot::diff {

namespace {
bool tracked(const Node& node) { return node.type != FileType::kDir && node.nlink > 1; }
}  // namespace

void LinkGroups::note(Side side, const std::string& path, const Node& node) {
  if (tracked(node)) names_[side][node.ino].push_back(path);
}

void LinkGroups::pair(const std::string& path, const Node& a, const Node& b, bool reported) {
  if (tracked(a) || tracked(b)) paired_.push_back({path, a, b, reported});
}

std::vector<std::string> LinkGroups::others(Side side, const Node& node,
                                            const std::string& path) const {
  std::vector<std::string> out;
  if (!tracked(node)) return out;
  auto it = names_[side].find(node.ino);
  if (it == names_[side].end()) return out;
  for (const auto& name : it->second)
    if (name != path) out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

LinkGroups::Changes LinkGroups::changes() const {
  Changes out;
  for (const auto& p : paired_) {
    auto in_a = others(kA, p.a, p.path);
    auto in_b = others(kB, p.b, p.path);
    if (in_a == in_b) continue;
    Entry e;
    e.kind = Kind::kChanged;
    e.path = p.path;
    e.a = p.a;
    e.b = p.b;
    e.add(Aspect::kLinks);
    std::vector<std::string> gained, lost;
    std::set_difference(in_b.begin(), in_b.end(), in_a.begin(), in_a.end(),
                        std::back_inserter(gained));
    std::set_difference(in_a.begin(), in_a.end(), in_b.begin(), in_b.end(),
                        std::back_inserter(lost));
    for (auto& g : gained) e.links.emplace_back('+', std::move(g));
    for (auto& l : lost) e.links.emplace_back('-', std::move(l));
    std::sort(e.links.begin(), e.links.end(),
              [](const SetChange& x, const SetChange& y) { return x.second < y.second; });
    out.entries.push_back(std::move(e));
    if (!p.reported) ++out.newly_changed;
  }
  return out;
}

}  // namespace imgroot::diff
