#include "diff/entry.h"

namespace imgroot::diff {

const char* type_name(FileType type) {
  switch (type) {
    case FileType::kFile: return "file";
    case FileType::kDir: return "dir";
    case FileType::kSymlink: return "symlink";
    case FileType::kChar: return "char";
    case FileType::kBlock: return "block";
    case FileType::kFifo: return "fifo";
    case FileType::kSocket: return "socket";
  }
  return "?";
}

const char* aspect_name(Aspect aspect) {
  static const char* names[kAspectCount] = {"type",   "content", "size",   "mode",  "owner",
                                            "target", "device",  "xattrs", "links"};
  return names[static_cast<std::size_t>(aspect)];
}

}  // namespace imgroot::diff
