#include "verbs.h"

#include <array>

namespace imgroot::cli {

std::span<const Verb> verbs() {
  static const std::array table{
      Verb{"initramfs", "build the standalone initramfs (imgroot-init + kernel modules)",
           run_initramfs},
  };
  return table;
}

}  // namespace imgroot::cli
