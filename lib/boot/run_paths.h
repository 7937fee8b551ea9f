// What imgroot-init leaves under /run for the running system to find
// (docs/boot.md, "What stays mounted").
#pragma once

namespace imgroot::run_paths {

inline constexpr const char* kScratch = "/run/imgroot";
// With imgroot.overlay=, the image itself, read-only, under the overlay at /.
inline constexpr const char* kOverlayLower = "/run/imgroot/lower";

}  // namespace imgroot::run_paths
