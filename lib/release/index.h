// A release's index: every block of the image, where it lives in the
// release directory's packs, and how to check it (docs/releases.md).
//
// The image is cut into blocks of block_size (4 KiB: the filesystem's block,
// so a file's data is found again wherever the filesystem put it). A block
// of zeros is not listed: it stays a hole. Every other block has a 16-byte
// hash (SHA-256, truncated) and a place: a slot in a frame, a frame being
// one zstd frame of consecutive blocks in a pack file. A node looks for
// each block in its own images first and fetches only the frames holding
// blocks it lacks.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgroot::release {

using BlockHash = std::array<unsigned char, 16>;
using Digest = std::array<unsigned char, 32>;

// For unordered maps keyed by block: the hash is uniform already.
struct BlockHashHasher {
  std::size_t operator()(const BlockHash& h) const;
};

struct Frame {
  std::uint32_t pack = 0;  // in Index::packs
  std::uint64_t offset = 0;
  std::uint32_t compressed_size = 0;
  std::uint32_t block_count = 0;
  Digest sha256{};  // of the compressed bytes
};

struct BlockRef {
  BlockHash hash{};
  std::uint32_t frame = 0;  // in Index::frames
  std::uint32_t slot = 0;   // the block's place in the frame
};

// Consecutive blocks that are not all zeros, from 'first' on.
struct DataRun {
  std::uint64_t first = 0;
  std::vector<BlockRef> blocks;
};

struct Index {
  std::uint32_t block_size = 0;
  std::uint64_t image_size = 0;
  std::vector<Digest> packs;  // a pack is packs/<hex of its SHA-256>.pack
  std::vector<Frame> frames;
  std::vector<DataRun> runs;  // in image order, not overlapping

  std::uint64_t block_count() const { return (image_size + block_size - 1) / block_size; }
};

// The binary form (little-endian, before compression); decode_index checks
// every count against the bytes there are and every reference against what
// it refers to, so a hostile index can neither crash nor exhaust memory.
std::string encode_index(const Index& index);
Result<Index> decode_index(std::string_view bytes, const std::string& what);

struct Manifest;
// A release's compressed index file, checked against what its manifest pins
// (size, SHA-256, block size, image size), decompressed and decoded. 'what'
// names it in messages.
Result<Index> read_index(std::string_view file, const Manifest& manifest, const std::string& what);

std::string hex(std::span<const unsigned char> bytes);
// The path of pack 'digest' in a release directory.
std::string pack_path(const Digest& digest);
BlockHash block_hash(std::span<const unsigned char> block);
Digest sha256_digest(std::span<const unsigned char> bytes);

}  // namespace imgroot::release
