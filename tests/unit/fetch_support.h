// Helpers of the [http] unit tests and the fetch.* tests: content to
// serve, and get_ranges checked against the bytes it must deliver.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/http.h"

namespace imgroot::test {

// 'size' bytes of a seeded random stream: content no compression or
// coincidence makes look right.
inline std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

struct RangesFetched {
  Status status;
  std::vector<int> calls;     // how many times each range was delivered
  std::uint64_t reported = 0;  // the last on_bytes
};

// get_ranges of 'ranges', each delivered range checked against 'content'
// at its offset.
inline RangesFetched fetch_checked(std::span<const net::RangeRequest> ranges,
                                   const std::string& content, net::FetchPolicy policy) {
  RangesFetched r;
  r.calls.resize(ranges.size());
  policy.on_bytes = [&](std::uint64_t bytes) { r.reported = bytes; };
  r.status = net::get_ranges(ranges, policy, [&](std::size_t i, std::string_view bytes) -> Status {
    ++r.calls[i];
    CHECK(bytes == std::string_view(content).substr(ranges[i].offset, ranges[i].length));
    return {};
  });
  return r;
}

}  // namespace imgroot::test
