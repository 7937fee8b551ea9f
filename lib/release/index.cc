#include "release/index.h"

#include <openssl/evp.h>

#include <cstring>

#include "compress/zstd.h"
#include "release/manifest.h"

namespace imgroot::release {

namespace {

constexpr char kMagic[8] = {'I', 'M', 'G', 'R', 'I', 'D', 'X', '1'};
constexpr std::size_t kHeader = 8 + 4 + 8 + 4 + 4 + 4;
constexpr std::size_t kFrameBytes = 4 + 8 + 4 + 4 + 32;
constexpr std::size_t kRunHeader = 8 + 4;
constexpr std::size_t kBlockBytes = 16 + 4 + 4;
constexpr std::uint32_t kMaxBlocksPerFrame = 1u << 20;

template <typename T>
void put(std::string& out, T v) {
  for (std::size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_bytes(std::string& out, std::span<const unsigned char> b) {
  out.append(reinterpret_cast<const char*>(b.data()), b.size());
}

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  std::size_t left() const { return b_.size() - pos_; }
  template <typename T>
  T get() {
    T v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i)
      v = static_cast<T>(v | (static_cast<T>(static_cast<unsigned char>(b_[pos_ + i])) << (8 * i)));
    pos_ += sizeof(T);
    return v;
  }
  template <std::size_t N>
  std::array<unsigned char, N> get_array() {
    std::array<unsigned char, N> a{};
    std::memcpy(a.data(), b_.data() + pos_, N);
    pos_ += N;
    return a;
  }

 private:
  std::string_view b_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string encode_index(const Index& index) {
  std::string out(kMagic, sizeof kMagic);
  put<std::uint32_t>(out, index.block_size);
  put<std::uint64_t>(out, index.image_size);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(index.packs.size()));
  put<std::uint32_t>(out, static_cast<std::uint32_t>(index.frames.size()));
  put<std::uint32_t>(out, static_cast<std::uint32_t>(index.runs.size()));
  for (const auto& p : index.packs) put_bytes(out, p);
  for (const auto& f : index.frames) {
    put<std::uint32_t>(out, f.pack);
    put<std::uint64_t>(out, f.offset);
    put<std::uint32_t>(out, f.compressed_size);
    put<std::uint32_t>(out, f.block_count);
    put_bytes(out, f.sha256);
  }
  for (const auto& r : index.runs) {
    put<std::uint64_t>(out, r.first);
    put<std::uint32_t>(out, static_cast<std::uint32_t>(r.blocks.size()));
    for (const auto& b : r.blocks) {
      put_bytes(out, b.hash);
      put<std::uint32_t>(out, b.frame);
      put<std::uint32_t>(out, b.slot);
    }
  }
  return out;
}

Result<Index> decode_index(std::string_view bytes, const std::string& what) {
  auto bad = [&what](const std::string& why) { return fail(what + ": " + why + " (a damaged or foreign index)"); };
  if (bytes.size() < kHeader || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return bad("no imgroot index header");
  Reader in(bytes.substr(sizeof kMagic));
  Index index;
  index.block_size = in.get<std::uint32_t>();
  index.image_size = in.get<std::uint64_t>();
  const auto packs = in.get<std::uint32_t>();
  const auto frames = in.get<std::uint32_t>();
  const auto runs = in.get<std::uint32_t>();
  if (index.block_size < 512 || index.block_size > (1u << 20) ||
      (index.block_size & (index.block_size - 1)))
    return bad("block size " + std::to_string(index.block_size));
  if (index.image_size == 0 || index.image_size > (1ull << 50)) return bad("image size out of range");
  // Counts are checked against the bytes left before anything is reserved.
  if (packs > in.left() / 32) return bad("more packs than bytes");
  index.packs.reserve(packs);
  for (std::uint32_t i = 0; i < packs; ++i) index.packs.push_back(in.get_array<32>());
  if (frames > in.left() / kFrameBytes) return bad("more frames than bytes");
  index.frames.reserve(frames);
  for (std::uint32_t i = 0; i < frames; ++i) {
    Frame f;
    f.pack = in.get<std::uint32_t>();
    f.offset = in.get<std::uint64_t>();
    f.compressed_size = in.get<std::uint32_t>();
    f.block_count = in.get<std::uint32_t>();
    f.sha256 = in.get_array<32>();
    if (f.pack >= packs) return bad("frame " + std::to_string(i) + " names no pack");
    if (f.compressed_size == 0 || f.block_count == 0 || f.block_count > kMaxBlocksPerFrame ||
        f.offset > (1ull << 50))
      return bad("frame " + std::to_string(i) + " is out of range");
    index.frames.push_back(f);
  }
  const std::uint64_t blocks = index.block_count();
  std::uint64_t next_free = 0;  // the first block no earlier run covers
  if (runs > in.left() / kRunHeader) return bad("more runs than bytes");
  index.runs.reserve(runs);
  for (std::uint32_t i = 0; i < runs; ++i) {
    if (in.left() < kRunHeader) return bad("truncated");
    DataRun r;
    r.first = in.get<std::uint64_t>();
    const auto count = in.get<std::uint32_t>();
    if (count == 0 || r.first < next_free || r.first >= blocks || count > blocks - r.first)
      return bad("run " + std::to_string(i) + " overlaps or leaves the image");
    if (count > in.left() / kBlockBytes) return bad("truncated");
    r.blocks.reserve(count);
    for (std::uint32_t k = 0; k < count; ++k) {
      BlockRef b;
      b.hash = in.get_array<16>();
      b.frame = in.get<std::uint32_t>();
      b.slot = in.get<std::uint32_t>();
      if (b.frame >= frames || b.slot >= index.frames[b.frame].block_count)
        return bad("a block of run " + std::to_string(i) + " names no frame slot");
      r.blocks.push_back(b);
    }
    next_free = r.first + count;
    index.runs.push_back(std::move(r));
  }
  if (in.left() != 0) return bad("trailing bytes");
  return index;
}

std::size_t BlockHashHasher::operator()(const BlockHash& h) const {
  std::size_t v;
  std::memcpy(&v, h.data(), sizeof v);
  return v;
}

Result<Index> read_index(std::string_view file, const Manifest& m, const std::string& what) {
  const auto* data = reinterpret_cast<const unsigned char*>(file.data());
  if (file.size() != m.index_size || hex(sha256_digest({data, file.size()})) != m.index_sha256)
    return fail(what + " does not match its manifest (size or SHA-256): the copy is damaged or "
                       "was altered; republish the release");
  auto raw = decompress_zstd(file, kMaxIndexBytes, what);
  if (!raw) return std::unexpected(raw.error());
  auto index = decode_index(*raw, what);
  if (!index) return std::unexpected(index.error());
  if (index->block_size != m.block_size || index->image_size != m.image_size)
    return fail(what + " describes another image than its manifest; republish the release");
  return index;
}

std::string hex(std::span<const unsigned char> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    s.push_back(kDigits[c >> 4]);
    s.push_back(kDigits[c & 15]);
  }
  return s;
}

std::string pack_path(const Digest& digest) {
  return std::string(kPacksDir) + "/" + hex(digest) + ".pack";
}

Digest sha256_digest(std::span<const unsigned char> bytes) {
  Digest d{};
  unsigned int len = 0;
  (void)EVP_Digest(bytes.data(), bytes.size(), d.data(), &len, EVP_sha256(), nullptr);
  return d;
}

BlockHash block_hash(std::span<const unsigned char> block) {
  const Digest d = sha256_digest(block);
  BlockHash h{};
  std::memcpy(h.data(), d.data(), h.size());
  return h;
}

}  // namespace imgroot::release
