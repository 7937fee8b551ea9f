#include "release/fetch.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>
#include <vector>

#include "base/bytes.h"
#include "base/lines.h"
#include "base/layout.h"
#include "compress/zstd.h"
#include "net/http.h"
#include "release/index.h"
#include "release/signing.h"
#include "stage/copy.h"
#include "system/fd.h"
#include "system/file.h"

namespace imgroot::release {

namespace {

// The store's files.
constexpr const char* kStoreManifest = "manifest.json";
constexpr const char* kStoreIndex = "index.zst";
constexpr const char* kStoreSignature = "manifest.json.sig";
constexpr const char* kStoreUrls = "urls";  // the URL asked for, then the manifest's
constexpr const char* kImagePart = "image.part";
constexpr const char* kSeedPart = "seed.part";  // another release's interrupted download
constexpr const char* kComplete = "complete";
constexpr const char* kLock = ".lock";

constexpr std::size_t kReadBytes = 4u << 20;
// Frames closer than this in one pack are fetched in one range: the bytes
// between cost less than another request.
constexpr std::uint64_t kCoalesceGap = 64u << 10;
constexpr std::uint64_t kMaxRange = 4u << 20;
// A power cut loses at most this much of what was written (it is checked
// again, block by block, on the next run).
constexpr std::uint64_t kSyncEvery = 256u << 20;

// A URL for what the operator named: URLs as they are, a path as file://,
// a directory as its manifest.
std::string url_of(const std::string& arg) {
  struct stat st {};
  if (arg.find("://") == std::string::npos && ::stat(arg.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return net::to_url(arg + "/" + kManifestName);
  return net::to_url(arg);
}

// image.part, written block by block; a block from a local image is cloned
// when the filesystem can (consecutive blocks in one ioctl), else copied.
class PartWriter {
 public:
  PartWriter(int fd, std::uint32_t block_size, bool reflink)
      : fd_(fd), bs_(block_size), reflink_(reflink) {}

  Status write(std::uint64_t block, const unsigned char* data) {
    if (auto st = flush_clone(); !st) return st;
    return put(block, data);
  }

  // Block 'block' is the block at 'offset' of local image 'seed', 'data'.
  Status copy(int seed, std::uint64_t offset, std::uint64_t block, const unsigned char* data) {
    if (!reflink_) return put(block, data);
    const std::uint64_t dest = block * bs_;
    if (clone_.length && clone_.seed == seed && clone_.src + clone_.length == offset &&
        clone_.dest + clone_.length == dest) {
      clone_.length += bs_;
      return {};
    }
    if (auto st = flush_clone(); !st) return st;
    clone_ = {seed, offset, dest, bs_};
    return {};
  }

  Status finish() {
    if (auto st = flush_clone(); !st) return st;
    return fsync_fd(fd_, kImagePart);
  }

 private:
  struct Clone {
    int seed = -1;
    std::uint64_t src = 0, dest = 0, length = 0;
  };

  Status put(std::uint64_t block, const unsigned char* data) {
    std::size_t done = 0;
    while (done < bs_) {
      ssize_t n = ::pwrite(fd_, data + done, bs_ - done, static_cast<off_t>(block * bs_ + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        if (errno == ENOSPC)
          return fail("the host partition is full: write " + std::string(kImagePart) +
                      ": " + std::strerror(ENOSPC) + "; free space there (remove " +
                      host_files::kBroken + "?) and stage again: what was verified is kept");
        return fail_errno("write " + std::string(kImagePart));
      }
      done += static_cast<std::size_t>(n);
    }
    return count(bs_);
  }

  Status count(std::uint64_t bytes) {
    unsynced_ += bytes;
    if (unsynced_ < kSyncEvery) return {};
    unsynced_ = 0;
    if (::fdatasync(fd_) < 0) return fail_errno("fdatasync " + std::string(kImagePart));
    return {};
  }

  Status flush_clone() {
    if (!clone_.length) return {};
    const Clone c = clone_;
    clone_ = {};
    struct file_clone_range range {};
    range.src_fd = c.seed;
    range.src_offset = c.src;
    range.src_length = c.length;
    range.dest_offset = c.dest;
    if (::ioctl(fd_, FICLONERANGE, &range) == 0) return {};
    // Not on this filesystem (or not between these files): copy from now on.
    reflink_ = false;
    std::vector<unsigned char> buf(c.length);
    if (auto st = read_exactly_at(c.seed, buf.data(), buf.size(), c.src, "a local image"); !st) return st;
    for (std::uint64_t at = 0; at < c.length; at += bs_)
      if (auto st = put((c.dest + at) / bs_, buf.data() + at); !st) return st;
    return {};
  }

  int fd_;
  std::uint32_t bs_;
  bool reflink_;
  Clone clone_;
  std::uint64_t unsynced_ = 0;
};

// Where each block of the release is and whether image.part has it.
class Plan {
 public:
  explicit Plan(const Index& index) : index_(index), have_(index.block_count(), false) {
    for (const auto& run : index.runs) data_blocks_ += run.blocks.size();
  }

  template <typename F>
  void for_each_block(F&& f) const {
    for (const auto& run : index_.runs)
      for (std::size_t i = 0; i < run.blocks.size(); ++i) f(run.first + i, run.blocks[i]);
  }

  bool has(std::uint64_t block) const { return have_[block]; }
  void got(std::uint64_t block) { have_[block] = true; }
  std::uint64_t data_blocks() const { return data_blocks_; }
  std::uint64_t missing() const {
    std::uint64_t n = 0;
    for_each_block([&](std::uint64_t b, const BlockRef&) { n += !have_[b]; });
    return n;
  }

 private:
  const Index& index_;
  std::vector<bool> have_;
  std::uint64_t data_blocks_ = 0;
};

class Assembly {
 public:
  Assembly(const Manifest& m, const Index& index, const std::string& manifest_url, int part,
           const FetchRequest& request)
      : m_(m), index_(index), manifest_url_(manifest_url), part_(part), request_(request),
        plan_(index), writer_(part, m.block_size, request.allow_reflink) {
    progress_.total = plan_.data_blocks() * m.block_size;
  }

  FetchProgress& progress() { return progress_; }

  // Blocks image.part already holds (an interrupted run of this release).
  Status resume() {
    progress_.phase = FetchProgress::Phase::kChecking;
    report();
    if (::lseek(part_, 0, SEEK_DATA) < 0) return {};  // ENXIO: nothing written yet
    std::vector<unsigned char> buf(kReadBytes);
    const std::uint32_t bs = m_.block_size;
    for (const auto& run : index_.runs) {
      for (std::size_t i = 0; i < run.blocks.size();) {
        const std::size_t n = std::min<std::size_t>(run.blocks.size() - i, kReadBytes / bs);
        const std::uint64_t offset = (run.first + i) * bs;
        if (auto st = read_exactly_at(part_, buf.data(), n * bs, offset, kImagePart); !st) return st;
        for (std::size_t k = 0; k < n; ++k)
          if (block_hash({buf.data() + k * bs, bs}) == run.blocks[i + k].hash) {
            plan_.got(run.first + i + k);
            progress_.resumed += bs;
          }
        i += n;
        report();
      }
    }
    return {};
  }

  // Blocks of the node's own images.
  Status seed(int seed, const std::string& name) {
    std::unordered_map<BlockHash, std::vector<std::uint64_t>, BlockHashHasher> wanted;
    plan_.for_each_block([&](std::uint64_t b, const BlockRef& ref) {
      if (!plan_.has(b)) wanted[ref.hash].push_back(b);
    });
    if (wanted.empty()) return {};
    progress_.phase = FetchProgress::Phase::kSeeding;
    const std::uint32_t bs = m_.block_size;
    struct stat st {};
    if (::fstat(seed, &st) < 0) return fail_errno("stat " + name);
    const auto size = static_cast<std::uint64_t>(st.st_size) / bs * bs;
    std::vector<unsigned char> buf(kReadBytes);
    // Only the seed's data counts: its holes are zeros, never listed.
    for (std::uint64_t at = 0; at < size && !wanted.empty();) {
      off_t data = ::lseek(seed, static_cast<off_t>(at), SEEK_DATA);
      if (data < 0) break;  // ENXIO: no data after 'at'
      off_t hole = ::lseek(seed, data, SEEK_HOLE);
      if (hole < 0) hole = static_cast<off_t>(size);
      const std::uint64_t end = std::min<std::uint64_t>(size, static_cast<std::uint64_t>(hole));
      const std::uint64_t stop = std::min<std::uint64_t>(size, (end + bs - 1) / bs * bs);
      for (std::uint64_t o = static_cast<std::uint64_t>(data) / bs * bs; o < stop && !wanted.empty();) {
        const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(kReadBytes, stop - o));
        if (auto s = read_exactly_at(seed, buf.data(), len, o, name); !s) return s;
        for (std::size_t k = 0; k + bs <= len; k += bs) {
          auto it = wanted.find(block_hash({buf.data() + k, bs}));
          if (it == wanted.end()) continue;
          for (std::uint64_t b : it->second) {
            if (auto s = writer_.copy(seed, o + k, b, buf.data() + k); !s) return s;
            plan_.got(b);
            progress_.reused += bs;
          }
          wanted.erase(it);
        }
        o += len;
        if (cancelled()) return fail("interrupted");
        report();
      }
      at = end;
    }
    return writer_.finish();
  }

  Status check_space(int hostpart) const {
    struct statvfs vfs {};
    if (::fstatvfs(hostpart, &vfs) < 0) return fail_errno("measure free space on the host partition");
    const std::uint64_t needed = plan_.missing() * m_.block_size;
    const auto available = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    if (needed <= available) return {};
    return fail("not enough space on the host partition: the release needs " +
                format_bytes(needed) + " more, " + format_bytes(available) + " is free (" +
                format_bytes(needed - available) + " missing); remove " + host_files::kBroken +
                " or other files there, and stage again");
  }

  // The frames holding the blocks still missing.
  Status fetch() {
    std::map<std::uint32_t, std::vector<std::pair<std::uint32_t, std::uint64_t>>> frames;
    plan_.for_each_block([&](std::uint64_t b, const BlockRef& ref) {
      if (!plan_.has(b)) frames[ref.frame].push_back({ref.slot, b});
    });
    if (frames.empty()) return {};
    progress_.phase = FetchProgress::Phase::kFetching;
    // In pack order, neighbours coalesced into one range.
    std::vector<std::uint32_t> order;
    for (const auto& [f, _] : frames) order.push_back(f);
    std::sort(order.begin(), order.end(), [this](std::uint32_t a, std::uint32_t b) {
      const Frame &x = index_.frames[a], &y = index_.frames[b];
      return std::tie(x.pack, x.offset) < std::tie(y.pack, y.offset);
    });
    std::vector<net::RangeRequest> ranges;
    std::vector<std::vector<std::uint32_t>> range_frames;
    for (std::uint32_t f : order) {
      const Frame& frame = index_.frames[f];
      progress_.to_fetch += frame.compressed_size;
      if (!ranges.empty()) {
        const Frame& last = index_.frames[range_frames.back().back()];
        auto& r = ranges.back();
        const std::uint64_t end = r.offset + r.length;
        if (last.pack == frame.pack && frame.offset >= end && frame.offset - end <= kCoalesceGap &&
            frame.offset + frame.compressed_size - r.offset <= kMaxRange) {
          r.length = frame.offset + frame.compressed_size - r.offset;
          range_frames.back().push_back(f);
          continue;
        }
      }
      ranges.push_back({net::resolve(manifest_url_, kManifestToTop + pack_path(index_.packs[frame.pack])),
                        frame.offset, frame.compressed_size});
      range_frames.push_back({f});
    }
    net::FetchPolicy policy;
    policy.max_in_flight = request_.max_in_flight;
    policy.give_up_after_s = request_.give_up_after_s;
    policy.cancel = request_.cancel;
    const std::uint64_t received_before = progress_.received;
    policy.on_bytes = [this, received_before](std::uint64_t bytes) {
      progress_.received = received_before + bytes;
      report();
    };
    auto on_range = [&](std::size_t i, std::string_view bytes) -> Status {
      for (std::uint32_t f : range_frames[i]) {
        const Frame& frame = index_.frames[f];
        const auto at = static_cast<std::size_t>(frame.offset - ranges[i].offset);
        if (at + frame.compressed_size > bytes.size()) return fail("short range from " + ranges[i].url);
        const std::string_view c = bytes.substr(at, frame.compressed_size);
        if (auto s = place_frame(f, c, frames.at(f), ranges[i].url); !s) return s;
      }
      return {};
    };
    if (auto st = net::get_ranges(ranges, policy, on_range); !st) return st;
    return writer_.finish();
  }

  // Every block is there and the whole image is the release's.
  Status verify() {
    if (const auto left = plan_.missing())
      return fail("internal: " + std::to_string(left) + " blocks are still missing");
    progress_.phase = FetchProgress::Phase::kVerifying;
    stage::CopyControl control;
    control.progress = [this](std::uint64_t done, std::uint64_t) {
      progress_.verified = done;
      report();
    };
    control.cancel = request_.cancel;
    auto sha = stage::hash_file(part_, control);
    if (!sha) return std::unexpected(sha.error());
    if (*sha != m_.image_sha256)
      return fail("the assembled image's SHA-256 is " + *sha + ", not the release's " +
                  m_.image_sha256 + ": the release's index does not describe its image (a "
                  "publishing error, or tampering); nothing was staged");
    return {};
  }

 private:
  Status place_frame(std::uint32_t f, std::string_view compressed,
                     const std::vector<std::pair<std::uint32_t, std::uint64_t>>& targets,
                     const std::string& url) {
    const Frame& frame = index_.frames[f];
    const auto* data = reinterpret_cast<const unsigned char*>(compressed.data());
    if (sha256_digest({data, compressed.size()}) != frame.sha256)
      return fail("a chunk of " + url + " (bytes " + std::to_string(frame.offset) + "-" +
                  std::to_string(frame.offset + frame.compressed_size - 1) +
                  ") does not match the release's index: the server's copy is damaged or was "
                  "altered; nothing was staged (republish the release, or fix the server)");
    const std::uint32_t bs = m_.block_size;
    auto raw = decompress_zstd(compressed, std::size_t{frame.block_count} * bs, url);
    if (!raw) return std::unexpected(raw.error());
    if (raw->size() != std::size_t{frame.block_count} * bs)
      return fail("a chunk of " + url + " holds " + std::to_string(raw->size()) +
                  " bytes, not the index's " + std::to_string(frame.block_count * bs));
    const auto* blocks = reinterpret_cast<const unsigned char*>(raw->data());
    for (const auto& [slot, b] : targets) {
      if (plan_.has(b)) continue;
      const unsigned char* block = blocks + std::size_t{slot} * bs;
      if (block_hash({block, bs}) != expected(b))
        return fail("a block in a chunk of " + url + " does not match the release's index "
                    "(damaged or altered); nothing was staged");
      if (auto s = writer_.write(b, block); !s) return s;
      plan_.got(b);
      progress_.fetched += bs;
    }
    return {};
  }

  BlockHash expected(std::uint64_t block) const {
    auto run = std::upper_bound(index_.runs.begin(), index_.runs.end(), block,
                                [](std::uint64_t b, const DataRun& r) { return b < r.first; });
    --run;  // the caller asks only for data blocks
    return run->blocks[block - run->first].hash;
  }

  bool cancelled() const { return request_.cancel && *request_.cancel; }
  void report() {
    if (request_.progress) request_.progress(progress_);
  }

  const Manifest& m_;
  const Index& index_;
  std::string manifest_url_;
  int part_;
  const FetchRequest& request_;
  Plan plan_;
  PartWriter writer_;
  FetchProgress progress_;
};

struct Store {
  Fd dir;
  Fd lock;
};

Result<Store> open_store(int hostpart) {
  auto state = open_or_make_dir_at(hostpart, host_files::kStateDir, 0755);
  if (!state) return std::unexpected(state.error());
  auto dir = open_or_make_dir_at(hostpart, host_files::kFetchDir, 0755);
  if (!dir) return std::unexpected(dir.error());
  auto lock = Fd::open_at(dir->get(), kLock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (!lock) return std::unexpected(lock.error());
  if (::flock(lock->get(), LOCK_EX | LOCK_NB) < 0)
    return fail(std::string("another 'imgroot stage' is downloading onto this host partition (") +
                host_files::kFetchDir + " is locked); wait for it to finish");
  return Store{std::move(*dir), std::move(*lock)};
}

// A complete download of 'url' from an earlier --download-only, if any, in
// the store open as 'store'.
Result<std::optional<Resolved>> downloaded_earlier(int store, const std::string& url) {
  auto complete = exists_at(store, kComplete);
  if (!complete) return std::unexpected(complete.error());
  if (!*complete) return std::optional<Resolved>();
  auto urls = read_file_at(store, kStoreUrls);
  if (!urls) return std::optional<Resolved>();
  const auto lines = lines_of(*urls);
  if (lines.size() < 2 || lines[0] != url) return std::optional<Resolved>();
  auto text = read_file_at(store, kStoreManifest);
  if (!text) return std::unexpected(text.error());
  auto m = parse_manifest(*text, std::string(host_files::kFetchDir) + "/" + kStoreManifest);
  if (!m) return std::unexpected(m.error());
  Resolved r;
  r.manifest = std::move(*m);
  r.text = std::move(*text);
  if (auto sig = read_file_at(store, kStoreSignature)) r.signature = std::move(*sig);
  r.url = url;
  r.manifest_url = std::string(lines[1]);
  r.offline = true;
  return std::optional<Resolved>(std::move(r));
}

net::FetchPolicy small_policy(const FetchRequest& request, std::uint64_t& received) {
  net::FetchPolicy policy;
  policy.give_up_after_s = request.give_up_after_s;
  policy.cancel = request.cancel;
  policy.on_bytes = [&received](std::uint64_t n) { received += n; };
  return policy;
}

// The channel (when 'url' names one), the manifest and its signature.
Result<Resolved> resolve_online(const std::string& url, const FetchRequest& request) {
  Resolved r;
  r.url = url;
  const net::FetchPolicy policy = small_policy(request, r.received);
  auto text = net::get(url, policy);
  if (!text) return std::unexpected(text.error());
  r.manifest_url = url;
  if (looks_like_channel(*text)) {
    auto path = parse_channel(*text, url);
    if (!path) return std::unexpected(path.error());
    r.manifest_url = net::resolve(url, *path);
    text = net::get(r.manifest_url, policy);
    if (!text) return std::unexpected(text.error());
  }
  auto m = parse_manifest(*text, r.manifest_url);
  if (!m) return std::unexpected(m.error());
  r.manifest = std::move(*m);
  r.text = std::move(*text);
  // The detached signature beside the manifest; a server without one says 404.
  if (auto sig = net::get(r.manifest_url + kSignatureSuffix, policy)) {
    r.signature = std::move(*sig);
  } else if (sig.error().code != ENOENT) {
    return std::unexpected(sig.error());
  }
  return r;
}

Fetched from_store(const Resolved& r) {
  Fetched f;
  f.manifest = r.manifest;
  f.manifest_url = r.manifest_url;
  f.image = std::string(host_files::kFetchDir) + "/" + kImagePart;
  f.offline = true;
  return f;
}

}  // namespace

bool names_release(const std::string& arg) {
  if (arg.find("://") != std::string::npos) return true;
  struct stat st {};
  if (::stat(arg.c_str(), &st) < 0) return false;
  if (S_ISDIR(st.st_mode)) return true;
  if (!S_ISREG(st.st_mode)) return false;
  // A manifest or channel is JSON; an image starts with anything but '{'.
  Fd fd(::open(arg.c_str(), O_RDONLY | O_CLOEXEC));
  char c = 0;
  while (fd.valid() && ::read(fd.get(), &c, 1) == 1)
    if (c != ' ' && c != '\n' && c != '\t' && c != '\r') return c == '{';
  return false;
}

Result<Resolved> resolve_release(int hostpart, const FetchRequest& request) {
  const std::string url = url_of(request.url);
  std::optional<Resolved> r;
  Fd store(::openat(hostpart, host_files::kFetchDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (store.valid()) {
    auto earlier = downloaded_earlier(store.get(), url);
    if (!earlier) return std::unexpected(earlier.error());
    r = std::move(*earlier);
  } else if (errno != ENOENT) {
    return fail_errno(std::string("open ") + host_files::kFetchDir);
  }
  if (!r) {
    auto online = resolve_online(url, request);
    if (!online) return std::unexpected(online.error());
    r = std::move(*online);
  }
  if (request.accept)
    if (auto st = request.accept(r->manifest, r->text, r->signature); !st) return std::unexpected(st.error());
  return std::move(*r);
}

Result<Fetched> fetch_release(int hostpart, const FetchRequest& request) {
  auto resolved = resolve_release(hostpart, request);
  if (!resolved) return std::unexpected(resolved.error());
  return fetch_release(hostpart, request, *resolved);
}

Result<Fetched> fetch_release(int hostpart, const FetchRequest& request, const Resolved& resolved) {
  auto store = open_store(hostpart);
  if (!store) return std::unexpected(store.error());
  const int dir = store->dir.get();
  if (resolved.offline) {
    // Still there now that the store is ours? Else it is assembled again.
    auto earlier = downloaded_earlier(dir, resolved.url);
    if (!earlier) return std::unexpected(earlier.error());
    if (*earlier && (*earlier)->text == resolved.text) return from_store(resolved);
  }
  const Manifest& m = resolved.manifest;
  const std::string& text = resolved.text;
  const std::string& url = resolved.url;
  const std::string& manifest_url = resolved.manifest_url;
  const std::optional<std::string>& signature = resolved.signature;
  FetchProgress counts;
  counts.received = resolved.received;
  const net::FetchPolicy policy = small_policy(request, counts.received);

  // The store holds this release (resume), another one (its image.part
  // becomes a seed) or nothing.
  auto stored = read_file_at(dir, kStoreManifest);
  const bool same = stored && *stored == text;
  std::string index_bytes;
  if (same)
    if (auto kept = read_file_at(dir, kStoreIndex)) index_bytes = std::move(*kept);
  const std::string index_url = net::resolve(manifest_url, m.index_path);
  if (!same || index_bytes.size() != m.index_size) {
    auto got = net::get(index_url, policy);
    if (!got) return std::unexpected(got.error());
    index_bytes = std::move(*got);
  }
  auto index = read_index(index_bytes, m, index_url);
  if (!index) return std::unexpected(index.error());
  if (!same) {
    for (const char* name : {kComplete, kStoreManifest, kStoreIndex})
      if (auto st = remove_at(dir, name); !st) return std::unexpected(st.error());
    if (auto part = exists_at(dir, kImagePart); part && *part)
      if (auto st = rename_at(dir, kImagePart, kSeedPart); !st) return std::unexpected(st.error());
    if (auto st = write_file_atomic_at(dir, kStoreIndex, index_bytes); !st) return std::unexpected(st.error());
    if (auto st = write_file_atomic_at(dir, kStoreManifest, text); !st) return std::unexpected(st.error());
  }
  if (signature) {
    if (auto st = write_file_atomic_at(dir, kStoreSignature, *signature); !st)
      return std::unexpected(st.error());
  } else if (auto st = remove_at(dir, kStoreSignature); !st) {
    return std::unexpected(st.error());
  }
  if (auto st = write_file_atomic_at(dir, kStoreUrls, url + "\n" + manifest_url + "\n"); !st)
    return std::unexpected(st.error());

  auto part = Fd::open_at(dir, kImagePart, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (!part) return std::unexpected(part.error());
  if (::ftruncate(part->get(), static_cast<off_t>(m.image_size)) < 0)
    return fail_errno("size " + std::string(kImagePart));

  Assembly assembly(m, *index, manifest_url, part->get(), request);
  assembly.progress().received = counts.received;
  if (auto st = assembly.resume(); !st) return std::unexpected(st.error());
  if (auto st = assembly.check_space(hostpart); !st) return std::unexpected(st.error());
  for (const char* name : {host_files::kCurrent, host_files::kNew, host_files::kOld, host_files::kBroken}) {
    Fd seed(::openat(hostpart, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat st {};
    if (!seed.valid() || ::fstat(seed.get(), &st) < 0 || !S_ISREG(st.st_mode)) continue;
    if (auto s = assembly.seed(seed.get(), name); !s) return std::unexpected(s.error());
  }
  if (Fd seed(::openat(dir, kSeedPart, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)); seed.valid())
    if (auto s = assembly.seed(seed.get(), kSeedPart); !s) return std::unexpected(s.error());
  if (auto st = assembly.fetch(); !st) return std::unexpected(st.error());
  if (auto st = assembly.verify(); !st) {
    // Every block matched its hash and the whole does not: start afresh.
    (void)remove_at(dir, kImagePart);
    return std::unexpected(st.error());
  }
  if (auto st = remove_at(dir, kSeedPart); !st) return std::unexpected(st.error());
  if (auto st = write_file_atomic_at(dir, kComplete, ""); !st) return std::unexpected(st.error());

  Fetched out;
  out.manifest = m;
  out.manifest_url = manifest_url;
  out.image = std::string(host_files::kFetchDir) + "/" + kImagePart;
  out.counts = assembly.progress();
  return out;
}

Status clear_store(int hostpart) { return remove_tree_at(hostpart, host_files::kFetchDir); }

Result<StoreState> store_state(int hostpart) {
  StoreState s;
  Fd dir(::openat(hostpart, host_files::kFetchDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) {
    if (errno == ENOENT) return s;
    return fail_errno(std::string("open ") + host_files::kFetchDir);
  }
  auto text = read_file_at(dir.get(), kStoreManifest);
  if (!text) return s;
  auto m = parse_manifest(*text, std::string(host_files::kFetchDir) + "/" + kStoreManifest);
  if (!m) return s;
  s.release = m->release();
  s.image_size = m->image_size;
  if (auto urls = read_file_at(dir.get(), kStoreUrls)) {
    const auto lines = lines_of(*urls);
    if (!lines.empty()) s.url = std::string(lines[0]);
  }
  struct stat st {};
  if (::fstatat(dir.get(), kImagePart, &st, AT_SYMLINK_NOFOLLOW) == 0)
    s.written = static_cast<std::uint64_t>(st.st_blocks) * 512;
  auto complete = exists_at(dir.get(), kComplete);
  s.complete = complete && *complete;
  Fd lock(::openat(dir.get(), kLock, O_RDWR | O_CLOEXEC));
  if (lock.valid() && ::flock(lock.get(), LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK) s.running = true;
  return s;
}

}  // namespace imgroot::release
