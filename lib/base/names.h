// The names of an enum's values, in one table per enum that both directions
// read: the name of a value (text and JSON output) and the value a name
// stands for (parsing). A table instead of a switch, so that a name is
// written once.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace imgroot {

template <typename E>
using EnumName = std::pair<E, const char*>;

// The name 'value' has in 'names'; 'unknown' when the table lacks it.
template <typename E, std::size_t N>
constexpr const char* enum_name(const EnumName<E> (&names)[N], E value,
                                const char* unknown = "?") {
  for (const auto& [v, name] : names)
    if (v == value) return name;
  return unknown;
}

// The value 'name' stands for in 'names'; nullopt when it is none of them.
template <typename E, std::size_t N>
constexpr std::optional<E> enum_value(const EnumName<E> (&names)[N], std::string_view name) {
  for (const auto& [v, n] : names)
    if (name == n) return v;
  return std::nullopt;
}

}  // namespace imgroot
