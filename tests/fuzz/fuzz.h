// Shared by the libFuzzer harnesses (docs/testing.md, "Fuzzing and
// sanitizers"): an invariant that does not hold aborts, so libFuzzer keeps
// the input as a crash artifact, like a sanitizer report.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <source_location>
#include <string_view>

namespace imgroot::fuzz {

inline void check(bool holds, std::string_view invariant,
                  std::source_location where = std::source_location::current()) {
  if (holds) return;
  std::fprintf(stderr, "%s:%u: invariant does not hold: %.*s\n", where.file_name(),
               static_cast<unsigned>(where.line()), static_cast<int>(invariant.size()),
               invariant.data());
  std::abort();
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace imgroot::fuzz
