// Hard-link groups: which other names share an entry's inode, in A and in B.
// The groups are only complete once both trees have been walked, so their
// changes are reported after the walk. Memory grows with the number of
// multiply-linked files, not with the size of the trees.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "diff/entry.h"

namespace imgroot::diff {

class LinkGroups {
 public:
  enum Side { kA = 0, kB = 1 };

  // Remember that 'path' names node.ino on that side (directories and
  // singly-linked nodes are not remembered).
  void note(Side side, const std::string& path, const Node& node);

  // 'path' exists in both trees as the same type of non-directory; compare
  // its groups after the walk. 'reported' says whether the walk already
  // reported the path as changed (the summary counts a path once).
  void pair(const std::string& path, const Node& a, const Node& b, bool reported);

  struct Changes {
    std::vector<Entry> entries;        // in the order the paths were paired
    std::uint64_t newly_changed = 0;  // entries the walk had not reported
  };
  // A changed entry (aspect links) for every paired path whose other names
  // differ between A and B.
  Changes changes() const;

 private:
  struct Paired {
    std::string path;
    Node a, b;
    bool reported;
  };
  std::vector<std::string> others(Side side, const Node& node, const std::string& path) const;

  std::unordered_map<std::uint64_t, std::vector<std::string>> names_[2];
  std::vector<Paired> paired_;
};

}  // namespace imgroot::diff
