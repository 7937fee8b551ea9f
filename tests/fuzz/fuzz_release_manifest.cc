// A release's manifest and channel as a node reads them from the network:
// lib/release/manifest.cc.
#include <string>

#include "fuzz.h"
#include "release/manifest.h"

using namespace imgroot;
using imgroot::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(fuzz::as_text(data, size));
  if (auto path = release::parse_channel(text, "c"))
    check(path->find("/../") == std::string::npos && !path->starts_with("/"),
          "a channel never leads out of the release directory");
  auto m = release::parse_manifest(text, "m");
  if (!m) return 0;
  check(("/" + m->index_path + "/").find("/../") == std::string::npos, "an index path never climbs");
  check(m->block_size >= 512 && m->frame_bytes % m->block_size == 0, "the chunking is sane");
  const std::string written = release::manifest_json(*m);
  auto again = release::parse_manifest(written, "m");
  check(again.has_value(), "a manifest read is one that writes back readable");
  check(release::manifest_json(*again) == written, "writing is a fixed point");
  return 0;
}
