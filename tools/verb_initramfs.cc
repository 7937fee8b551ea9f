#include "verbs.h"

namespace imgroot::cli {
int run_initramfs(const std::vector<std::string>&) { return report(Error::plain("initramfs: not built yet")); }
}
