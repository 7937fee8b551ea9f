// The comparison of two directory trees in one sorted pass: both trees are
// read directory by directory, names in byte order, recursing in lockstep,
// so memory grows with depth times directory size, never with the trees.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "diff/entry.h"

namespace imgroot::diff {

struct Options {
  // Entries not compared (and directories not entered), in either tree. A
  // glob with a '/' matches the whole path ("/var/log/*", '*' stops at '/');
  // one without matches the entry's name anywhere ("*.pyc").
  std::vector<std::string> excludes;
  // Regular files of equal size and equal mtime (to the nanosecond) are
  // taken to be equal without reading them.
  bool trust_mtime = false;
};

// Where the entries go as they are found.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual Status entry(const Entry& entry) = 0;
};

// Compare the trees under the directories 'a_root' and 'b_root' (fds of
// their roots; an fsmount fd will do). Entries come in path order,
// component by component (a directory's entries right after it), then the
// hard-link group changes, which only the whole walk can tell, in the same
// order. B's directories are read on a second thread while A's are read on
// the calling one. The working directory is changed during the walk and put
// back.
Result<Summary> compare_trees(int a_root, int b_root, const Options& options, Sink& sink);

// Whether 'path' (with its final component 'name') is excluded.
bool excluded(const std::vector<std::string>& globs, const std::string& path,
              const std::string& name);

}  // namespace imgroot::diff
