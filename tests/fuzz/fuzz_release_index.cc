// A release's index as a node reads it from the network (after its
// SHA-256 matched the manifest, but the publisher may be hostile):
// lib/release/index.cc. Every reference the decoder lets through must hold.
#include <string>

#include "fuzz.h"
#include "release/index.h"

using namespace imgroot;
using imgroot::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = fuzz::as_text(data, size);
  auto index = release::decode_index(bytes, "i");
  if (!index) return 0;
  std::uint64_t next = 0;
  for (const auto& run : index->runs) {
    check(run.first >= next && !run.blocks.empty(), "runs are in order and never overlap");
    check(run.first + run.blocks.size() <= index->block_count(), "runs stay inside the image");
    next = run.first + run.blocks.size();
    for (const auto& b : run.blocks) {
      check(b.frame < index->frames.size(), "a block names a frame");
      check(b.slot < index->frames[b.frame].block_count, "a block names a slot of its frame");
    }
  }
  for (const auto& f : index->frames) check(f.pack < index->packs.size(), "a frame names a pack");
  check(release::encode_index(*index) == bytes, "an index decoded encodes to the same bytes");
  return 0;
}
