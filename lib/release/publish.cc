#include "release/publish.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "compress/zstd.h"
#include "image/open.h"
#include "release/index.h"
#include "release/signing.h"
#include "system/fd.h"
#include "system/file.h"

namespace imgroot::release {

namespace {

constexpr const char* kLockName = ".publish.lock";
constexpr std::size_t kReadBytes = 4u << 20;
// A block reference to a frame of the pack being written: its pack is known
// only once the pack is complete.
constexpr std::uint32_t kNewFrame = 0x80000000u;

struct Known {
  Digest pack;
  Frame frame;  // its 'pack' is an index into another release's list
  std::uint32_t slot;
};
using KnownBlocks = std::unordered_map<BlockHash, Known, BlockHashHasher>;

std::string rfc3339(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Every block of every release already in the directory, where it lives.
Result<KnownBlocks> known_blocks(int releases) {
  KnownBlocks known;
  auto names = list_dir(releases);
  if (!names) return std::unexpected(names.error());
  std::sort(names->begin(), names->end());
  for (const auto& release : *names) {
    if (release.starts_with(".")) continue;
    const std::string where = std::string(kReleasesDir) + "/" + release + "/" + kManifestName;
    auto text = read_file_at(releases, release + "/" + kManifestName);
    if (!text) return std::unexpected(std::move(text.error()).context("read the releases there"));
    auto m = parse_manifest(*text, where);
    if (!m) return std::unexpected(m.error());
    const std::string path = release + "/" + m->index_path;
    auto file = read_file_at(releases, path);
    if (!file) return std::unexpected(file.error());
    auto index = read_index(*file, *m, std::string(kReleasesDir) + "/" + path);
    if (!index)
      return std::unexpected(std::move(index.error())
                                 .context("read release " + release +
                                          " (repair or remove it, then publish again)"));
    for (const auto& run : index->runs)
      for (const auto& b : run.blocks) {
        const Frame& f = index->frames[b.frame];
        known.try_emplace(b.hash, Known{index->packs[f.pack], f, b.slot});
      }
  }
  return known;
}

// The index of the release being published, block by block.
class IndexBuilder {
 public:
  IndexBuilder(std::uint32_t block_size, std::uint64_t image_size) {
    index_.block_size = block_size;
    index_.image_size = image_size;
  }

  std::uint32_t frame_of(const Known& k) {
    const auto pack = pack_id(k.pack);
    auto [it, added] = frames_.try_emplace({pack, k.frame.offset}, 0);
    if (added) {
      Frame f = k.frame;
      f.pack = pack;
      it->second = static_cast<std::uint32_t>(index_.frames.size());
      index_.frames.push_back(f);
    }
    return it->second;
  }

  void add(std::uint64_t block, const BlockRef& ref) {
    if (index_.runs.empty() || index_.runs.back().first + index_.runs.back().blocks.size() != block)
      index_.runs.push_back({block, {}});
    index_.runs.back().blocks.push_back(ref);
  }

  // The new pack is complete: its frames join the index.
  void add_new_pack(const Digest& digest, std::vector<Frame> frames) {
    const auto pack = pack_id(digest);
    const auto base = static_cast<std::uint32_t>(index_.frames.size());
    for (auto& f : frames) {
      f.pack = pack;
      index_.frames.push_back(f);
    }
    for (auto& run : index_.runs)
      for (auto& b : run.blocks)
        if (b.frame & kNewFrame) b.frame = base + (b.frame & ~kNewFrame);
  }

  const Index& index() const { return index_; }

 private:
  std::uint32_t pack_id(const Digest& d) {
    auto [it, added] = packs_.try_emplace(d, static_cast<std::uint32_t>(index_.packs.size()));
    if (added) index_.packs.push_back(d);
    return it->second;
  }

  Index index_;
  std::map<Digest, std::uint32_t> packs_;
  std::map<std::pair<std::uint32_t, std::uint64_t>, std::uint32_t> frames_;
};

// The new pack: frames compressed on every CPU, written in order to a file
// beside its final name, which is the SHA-256 of its content.
class PackWriter {
 public:
  static Result<PackWriter> create(int packs, int level) {
    const std::string temp = ".new-" + std::to_string(::getpid()) + ".pack";
    (void)::unlinkat(packs, temp.c_str(), 0);  // a crashed publisher's
    auto fd = Fd::open_at(packs, temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (!fd) return std::unexpected(fd.error());
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
      return fail("publish: cannot start SHA-256");
    return PackWriter(packs, temp, std::move(*fd), std::move(ctx), level);
  }

  ~PackWriter() {
    if (!temp_.empty()) (void)::unlinkat(packs_, temp_.c_str(), 0);
  }
  PackWriter(PackWriter&&) = default;

  // Queue a frame's raw blocks; compressed with the next batch.
  Status add(std::string raw, std::uint32_t blocks) {
    pending_.push_back({std::move(raw), blocks});
    if (pending_.size() >= batch_) return flush();
    return {};
  }

  // Compress and write what is queued.
  Status flush() {
    std::vector<Result<std::string>> out(pending_.size(), std::string());
    {
      std::vector<std::jthread> workers;
      for (std::size_t i = 0; i < pending_.size(); ++i)
        workers.emplace_back([&, i] { out[i] = compress_zstd(pending_[i].first, level_); });
    }
    for (std::size_t i = 0; i < pending_.size(); ++i) {
      if (!out[i]) return std::unexpected(out[i].error());
      const std::string& c = *out[i];
      const auto* data = reinterpret_cast<const unsigned char*>(c.data());
      if (auto st = write_all(c); !st) return st;
      (void)EVP_DigestUpdate(ctx_.get(), data, c.size());
      frames_.push_back({0, size_, static_cast<std::uint32_t>(c.size()), pending_[i].second,
                         sha256_digest({data, c.size()})});
      size_ += c.size();
    }
    pending_.clear();
    return {};
  }

  // Durable under its final name; nothing when no frame was added.
  Result<std::optional<Digest>> finish() {
    if (auto st = flush(); !st) return std::unexpected(st.error());
    if (frames_.empty()) return std::optional<Digest>();
    if (auto st = fsync_fd(fd_.get(), "the new pack"); !st) return std::unexpected(st.error());
    Digest d{};
    unsigned int len = 0;
    (void)EVP_DigestFinal_ex(ctx_.get(), d.data(), &len);
    const std::string name = hex(d) + ".pack";
    if (auto st = rename_at(packs_, temp_, name); !st) return std::unexpected(st.error());
    temp_.clear();
    if (auto st = fsync_fd(packs_, kPacksDir); !st) return std::unexpected(st.error());
    return std::optional<Digest>(d);
  }

  std::uint32_t frames_started() const {
    return static_cast<std::uint32_t>(frames_.size() + pending_.size());
  }
  std::vector<Frame> frames() const { return frames_; }
  std::uint64_t size() const { return size_; }

 private:
  PackWriter(int packs, std::string temp, Fd fd,
             std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx, int level)
      : packs_(packs), temp_(std::move(temp)), fd_(std::move(fd)), ctx_(std::move(ctx)),
        level_(level), batch_(std::max(1u, std::thread::hardware_concurrency())) {}

  Status write_all(const std::string& c) {
    std::size_t done = 0;
    while (done < c.size()) {
      ssize_t n = ::write(fd_.get(), c.data() + done, c.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail_errno("write " + std::string(kPacksDir) + "/" + temp_);
      done += static_cast<std::size_t>(n);
    }
    return {};
  }

  int packs_;
  std::string temp_;
  Fd fd_;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
  int level_;
  std::size_t batch_;
  std::vector<std::pair<std::string, std::uint32_t>> pending_;
  std::vector<Frame> frames_;
  std::uint64_t size_ = 0;
};

bool all_zero(const unsigned char* p, std::size_t n) {
  return p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0;
}

// The release directory: written under a temporary name, renamed whole.
Result<bool> write_release(int releases, const std::string& release, const std::string& manifest,
                           const std::string& index, const std::optional<std::string>& signature) {
  const std::string temp = "." + release + ".tmp";
  if (auto st = remove_tree_at(releases, temp); !st) return std::unexpected(st.error());
  auto dir = open_or_make_dir_at(releases, temp, 0755);
  if (!dir) return std::unexpected(dir.error());
  if (auto st = write_file_atomic_at(dir->get(), kIndexName, index); !st) return std::unexpected(st.error());
  if (auto st = write_file_atomic_at(dir->get(), kManifestName, manifest); !st)
    return std::unexpected(st.error());
  if (signature)
    if (auto st = write_file_atomic_at(dir->get(), std::string(kManifestName) + kSignatureSuffix, *signature); !st)
      return std::unexpected(st.error());
  if (::renameat2(releases, temp.c_str(), releases, release.c_str(), RENAME_NOREPLACE) < 0) {
    const int saved = errno;
    (void)remove_tree_at(releases, temp);
    if (saved != EEXIST) return fail_errno("rename the release into place", saved);
    // Publishing the same release again is no change; another one is refused.
    auto there = read_file_at(releases, release + "/" + kManifestName);
    if (there && *there == manifest) return false;
    return fail("release " + release + " is already published with other content; releases "
                "never change: publish this image with a higher --version");
  }
  if (auto st = fsync_fd(releases, kReleasesDir); !st) return std::unexpected(st.error());
  return true;
}

}  // namespace

Result<std::uint64_t> highest_version(int releases, const std::string& name) {
  auto names = list_dir(releases);
  if (!names) return std::unexpected(names.error());
  std::uint64_t highest = 0;
  const std::string prefix = name + "-";
  for (const auto& n : *names) {
    if (!n.starts_with(prefix) || n.size() == prefix.size()) continue;
    const std::string digits = n.substr(prefix.size());
    if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 18) continue;
    highest = std::max<std::uint64_t>(highest, std::stoull(digits));
  }
  return highest;
}

Result<Published> publish_release(const PublishRequest& request) {
  if (!is_release_name(request.name))
    return fail("release name " + quoted(request.name) +
                " may hold only letters, digits, '.', '_' and '-' (it names files and URLs)");
  if (request.channel && !is_release_name(*request.channel))
    return fail("channel name " + quoted(*request.channel) +
                " may hold only letters, digits, '.', '_' and '-'");
  if (request.block_size < 512 || (request.block_size & (request.block_size - 1)) ||
      request.frame_bytes < request.block_size || request.frame_bytes % request.block_size ||
      request.frame_bytes > (256u << 20))
    return fail("the block size must be a power of two of at least 512, the frame size a "
                "multiple of it up to 256 MiB");
  // A key that cannot be read is found before the work, not after it.
  std::optional<std::pair<Key, std::string>> key;
  if (request.key) {
    auto read = read_private_key(*request.key);
    if (!read) return std::unexpected(read.error());
    key = std::move(*read);
  }
  auto image = image::open_image(AT_FDCWD, request.image, O_RDONLY, image::Symlink::kFollow);
  if (!image) return std::unexpected(image.error());
  auto fs = image::probe_image(*image, request.image);
  if (!fs) return std::unexpected(fs.error());
  struct stat st {};
  if (::fstat(image->get(), &st) < 0) return fail_errno("stat " + quoted(request.image));
  const auto size = static_cast<std::uint64_t>(st.st_size);
  const std::uint32_t bs = request.block_size;
  if (size % bs)
    return fail(quoted(request.image) + " is " + std::to_string(size) +
                " bytes, not a whole number of " + std::to_string(bs) +
                "-byte blocks; resize it (truncate -s) to a multiple of " + std::to_string(bs));

  if (::mkdir(request.dir.c_str(), 0755) < 0 && errno != EEXIST)
    return fail_errno("create the release directory " + quoted(request.dir));
  auto dir = Fd::open_dir(request.dir);
  if (!dir) return std::unexpected(dir.error());
  auto releases = open_or_make_dir_at(dir->get(), kReleasesDir, 0755);
  if (!releases) return std::unexpected(releases.error());
  auto packs = open_or_make_dir_at(dir->get(), kPacksDir, 0755);
  if (!packs) return std::unexpected(packs.error());
  auto lock = Fd::open_at(releases->get(), kLockName, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (!lock) return std::unexpected(lock.error());
  if (::flock(lock->get(), LOCK_EX | LOCK_NB) < 0)
    return fail("another 'imgroot publish' is writing to " + quoted(request.dir) +
                "; wait for it to finish");

  auto highest = highest_version(releases->get(), request.name);
  if (!highest) return std::unexpected(highest.error());
  const std::uint64_t version = request.version.value_or(*highest + 1);
  if (version == 0) return fail("--version 0: versions start at 1");
  if (version < *highest)
    return fail("version " + std::to_string(version) + " of " + request.name +
                " is below the highest in " + quoted(request.dir) + " (" +
                std::to_string(*highest) + "); versions only go up (nodes refuse a downgrade)");

  auto known = known_blocks(releases->get());
  if (!known) return std::unexpected(known.error());
  auto pack = PackWriter::create(packs->get(), request.level);
  if (!pack) return std::unexpected(pack.error());

  Published out;
  IndexBuilder builder(bs, size);
  // Blocks of this image already given a place in the new pack.
  std::unordered_map<BlockHash, BlockRef, BlockHashHasher> added;
  std::string frame;  // the raw blocks of the frame being filled
  std::uint32_t frame_blocks = 0;
  const auto blocks_per_frame = static_cast<std::uint32_t>(request.frame_bytes / bs);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> whole(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!whole || EVP_DigestInit_ex(whole.get(), EVP_sha256(), nullptr) != 1)
    return fail("publish: cannot start SHA-256");

  std::vector<unsigned char> buf(kReadBytes);
  for (std::uint64_t offset = 0; offset < size;) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kReadBytes, size - offset));
    if (auto read = read_exactly_at(image->get(), buf.data(), want, offset, quoted(request.image)); !read)
      return std::unexpected(read.error());
    const std::size_t got = want;
    (void)EVP_DigestUpdate(whole.get(), buf.data(), got);
    for (std::size_t at = 0; at < got; at += bs) {
      const unsigned char* block = buf.data() + at;
      const std::uint64_t number = (offset + at) / bs;
      if (all_zero(block, bs)) {
        ++out.blocks_zero;
        continue;
      }
      const BlockHash h = block_hash({block, bs});
      if (auto k = known->find(h); k != known->end()) {
        builder.add(number, {h, builder.frame_of(k->second), k->second.slot});
        ++out.blocks_known;
      } else if (auto a = added.find(h); a != added.end()) {
        builder.add(number, a->second);
        ++out.blocks_known;
      } else {
        const BlockRef ref{h, kNewFrame | pack->frames_started(), frame_blocks};
        added.emplace(h, ref);
        builder.add(number, ref);
        frame.append(reinterpret_cast<const char*>(block), bs);
        ++out.blocks_new;
        if (++frame_blocks == blocks_per_frame) {
          if (auto s = pack->add(std::move(frame), frame_blocks); !s) return std::unexpected(s.error());
          frame.clear();
          frame_blocks = 0;
        }
      }
    }
    offset += got;
    if (request.progress) request.progress(offset, size);
  }
  if (frame_blocks)
    if (auto s = pack->add(std::move(frame), frame_blocks); !s) return std::unexpected(s.error());
  auto digest = pack->finish();
  if (!digest) return std::unexpected(digest.error());
  if (*digest) builder.add_new_pack(**digest, pack->frames());
  out.pack_bytes = pack->size();

  Digest image_digest{};
  unsigned int len = 0;
  (void)EVP_DigestFinal_ex(whole.get(), image_digest.data(), &len);
  auto index = compress_zstd(encode_index(builder.index()), request.level);
  if (!index) return std::unexpected(index.error());
  const auto* index_data = reinterpret_cast<const unsigned char*>(index->data());
  out.index_bytes = index->size();

  Manifest& m = out.manifest;
  m.name = request.name;
  m.version = version;
  m.created = rfc3339(request.created);
  m.filesystem = *fs;
  m.image_size = size;
  m.image_sha256 = hex(image_digest);
  m.block_size = bs;
  m.frame_bytes = request.frame_bytes;
  m.index_path = kIndexName;
  m.index_size = index->size();
  m.index_sha256 = hex(sha256_digest({index_data, index->size()}));
  // Checked the way a node will read it, before anyone can.
  const std::string manifest = manifest_json(m);
  if (auto again = parse_manifest(manifest, "the new manifest"); !again)
    return std::unexpected(again.error());

  std::optional<std::string> signature;
  if (key) {
    auto signed_text = sign_manifest(manifest, key->first, key->second);
    if (!signed_text) return std::unexpected(signed_text.error());
    signature = std::move(*signed_text);
    out.signed_by = key->second;
  }
  const std::string release = m.release();
  auto written = write_release(releases->get(), release, manifest, *index, signature);
  if (!written) return std::unexpected(written.error());
  out.already = !*written;
  out.manifest_path = std::string(kReleasesDir) + "/" + release + "/" + kManifestName;
  if (request.channel) {
    auto channels = open_or_make_dir_at(dir->get(), kChannelsDir, 0755);
    if (!channels) return std::unexpected(channels.error());
    if (auto s = write_file_atomic_at(channels->get(), *request.channel,
                                      channel_json("../" + out.manifest_path));
        !s)
      return std::unexpected(s.error());
  }
  return out;
}

}  // namespace imgroot::release
