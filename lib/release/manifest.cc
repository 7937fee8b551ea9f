#include "release/manifest.h"

#include <nlohmann/json.hpp>

namespace imgroot::release {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr std::uint64_t kMaxImageSize = 1ull << 50;
constexpr std::uint64_t kMaxIndexSize = 1ull << 30;
constexpr std::uint64_t kMaxFrameBytes = 256ull << 20;

bool is_hex_digest(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// A path below the manifest's directory: relative, no "..".
bool is_relative_below(const std::string& p) {
  if (p.empty() || p.front() == '/' || p.find('\\') != std::string::npos) return false;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    const std::string part = p.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

// A string member, or "" when it is missing or no string: input decides
// the types, and json::value() would throw on a number.
std::string text_of(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

template <typename T>
Result<T> field(const json& j, const char* key, const std::string& what) {
  auto it = j.find(key);
  if (it == j.end()) return fail(what + ": no \"" + key + "\"");
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    return fail(what + ": \"" + key + "\" has the wrong type");
  }
}

}  // namespace

bool is_release_name(const std::string& s) {
  return !s.empty() && s.size() <= 100 && s.front() != '.' && s.front() != '-' &&
         s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
             std::string::npos;
}

std::string manifest_json(const Manifest& m) {
  ordered_json j;
  j["format"] = kManifestFormat;
  j["name"] = m.name;
  j["version"] = m.version;
  j["created"] = m.created;
  j["filesystem"] = m.filesystem;
  j["image"] = {{"size", m.image_size}, {"sha256", m.image_sha256}};
  j["chunking"] = {{"block_size", m.block_size}, {"frame_bytes", m.frame_bytes},
                   {"block_hash", "sha256-128"}, {"compression", "zstd"}};
  j["index"] = {{"path", m.index_path}, {"size", m.index_size}, {"sha256", m.index_sha256}};
  return j.dump(2) + "\n";
}

Result<Manifest> parse_manifest(const std::string& text, const std::string& what) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return fail(what + ": not a JSON object");
  auto format = field<std::string>(j, "format", what);
  if (!format) return std::unexpected(format.error());
  if (*format != kManifestFormat)
    return fail(what + ": format \"" + *format + "\" is not " + kManifestFormat +
                " (a newer imgroot may read it)");
  Manifest m;
  try {
    auto name = field<std::string>(j, "name", what);
    auto version = field<std::uint64_t>(j, "version", what);
    auto created = field<std::string>(j, "created", what);
    auto fs = field<std::string>(j, "filesystem", what);
    auto image = field<json>(j, "image", what);
    auto chunking = field<json>(j, "chunking", what);
    auto index = field<json>(j, "index", what);
    for (const auto* r : {&name, &created, &fs})
      if (!*r) return std::unexpected(r->error());
    if (!version) return std::unexpected(version.error());
    for (const auto* r : {&image, &chunking, &index})
      if (!*r) return std::unexpected(r->error());
    auto size = field<std::uint64_t>(*image, "size", what + " image");
    auto sha = field<std::string>(*image, "sha256", what + " image");
    auto block = field<std::uint32_t>(*chunking, "block_size", what + " chunking");
    auto frame = field<std::uint64_t>(*chunking, "frame_bytes", what + " chunking");
    auto hash = field<std::string>(*chunking, "block_hash", what + " chunking");
    auto compression = field<std::string>(*chunking, "compression", what + " chunking");
    auto ipath = field<std::string>(*index, "path", what + " index");
    auto isize = field<std::uint64_t>(*index, "size", what + " index");
    auto isha = field<std::string>(*index, "sha256", what + " index");
    for (const auto* r : {&size, &frame, &isize})
      if (!*r) return std::unexpected(r->error());
    for (const auto* r : {&sha, &hash, &compression, &ipath, &isha})
      if (!*r) return std::unexpected(r->error());
    if (!block) return std::unexpected(block.error());
    m = {*name, *version, *created, *fs, *size, *sha, *block, *frame, *ipath, *isize, *isha};
    if (*hash != "sha256-128" || *compression != "zstd")
      return fail(what + ": chunking " + *hash + "/" + *compression +
                  " is not sha256-128/zstd (a newer imgroot may read it)");
  } catch (const json::exception& e) {
    return fail(what + ": " + e.what());
  }
  if (!is_release_name(m.name))
    return fail(what + ": name \"" + m.name + "\" is not a release name (letters, digits, . _ -)");
  if (m.version == 0) return fail(what + ": version 0 (versions start at 1)");
  if (m.filesystem.empty() || m.filesystem.size() > 32) return fail(what + ": no filesystem type");
  if (m.image_size == 0 || m.image_size > kMaxImageSize)
    return fail(what + ": image size " + std::to_string(m.image_size) + " is out of range");
  if (!is_hex_digest(m.image_sha256) || !is_hex_digest(m.index_sha256))
    return fail(what + ": a sha256 is not 64 lower-case hex digits");
  if (m.block_size < 512 || m.block_size > (1u << 20) || (m.block_size & (m.block_size - 1)))
    return fail(what + ": block size " + std::to_string(m.block_size) +
                " is not a power of two from 512 to 1 MiB");
  if (m.frame_bytes < m.block_size || m.frame_bytes > kMaxFrameBytes ||
      m.frame_bytes % m.block_size)
    return fail(what + ": frame size " + std::to_string(m.frame_bytes) +
                " is not a multiple of the block size up to 256 MiB");
  if (!is_relative_below(m.index_path))
    return fail(what + ": index path \"" + m.index_path + "\" leaves the release directory");
  if (m.index_size == 0 || m.index_size > kMaxIndexSize)
    return fail(what + ": index size " + std::to_string(m.index_size) + " is out of range");
  return m;
}

std::string channel_json(const std::string& manifest_path) {
  ordered_json j;
  j["format"] = kChannelFormat;
  j["manifest"] = manifest_path;
  return j.dump(2) + "\n";
}

bool looks_like_channel(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return !j.is_discarded() && j.is_object() && text_of(j, "format") == kChannelFormat;
}

Result<std::string> parse_channel(const std::string& text, const std::string& what) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || text_of(j, "format") != kChannelFormat)
    return fail(what + ": not an " + std::string(kChannelFormat) + " channel");
  auto path = field<std::string>(j, "manifest", what);
  if (!path) return std::unexpected(path.error());
  // "../releases/x/manifest.json": one step up from channels/ is allowed.
  std::string below = path->starts_with("../") ? path->substr(3) : *path;
  if (!is_relative_below(below)) return fail(what + ": manifest path \"" + *path + "\" is not inside the release directory");
  return *path;
}

}  // namespace imgroot::release
