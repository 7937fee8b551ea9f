// The JSON report of `imgroot diff`: the facts of the text report, one
// entry per line so that it streams. The document:
//
//   {"schema": 1, "entries": [ENTRY, ...], "summary": SUMMARY}
//
// docs/diff.md describes ENTRY and SUMMARY.
#pragma once

#include <string>

#include "diff/entry.h"

namespace imgroot::diff {

class JsonReport {
 public:
  std::string begin() const;
  std::string entry(const Entry& entry);  // the line, with its separator
  std::string end(const Summary& summary) const;

 private:
  bool first_ = true;
};

}  // namespace imgroot::diff
