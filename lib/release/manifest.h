// A release's manifest and a channel: the two small JSON documents a node
// reads first (docs/releases.md has the format). The manifest pins what the
// node will assemble: the whole image's size and SHA-256, the chunking, and
// the index's size and SHA-256; the index pins every block (release/index.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/error.h"

namespace imgroot::release {

inline constexpr const char* kManifestFormat = "imgroot-release-1";
// The files of a release directory (release/publish.h has the whole layout).
inline constexpr const char* kManifestName = "manifest.json";
inline constexpr const char* kIndexName = "index.zst";
inline constexpr const char* kReleasesDir = "releases";
inline constexpr const char* kChannelsDir = "channels";
inline constexpr const char* kPacksDir = "packs";
// A pack's path relative to a manifest (releases/NAME-VERSION/ is two
// levels below the release directory).
inline constexpr const char* kManifestToTop = "../../";
// The most an index may decompress to: 24 bytes a 4 KiB block is 6 MiB a
// GiB of image data.
inline constexpr std::size_t kMaxIndexBytes = std::size_t{1} << 30;
inline constexpr const char* kChannelFormat = "imgroot-channel-1";

struct Manifest {
  std::string name;
  std::uint64_t version = 0;
  std::string created;     // RFC 3339, UTC
  std::string filesystem;  // as libblkid names it: ext4, btrfs...
  std::uint64_t image_size = 0;
  std::string image_sha256;  // lower-case hex
  std::uint32_t block_size = 0;
  std::uint64_t frame_bytes = 0;  // the most raw bytes one compressed frame holds
  std::string index_path;         // relative to the manifest
  std::uint64_t index_size = 0;   // of the compressed index file
  std::string index_sha256;

  std::string release() const { return name + "-" + std::to_string(version); }
};

// Release and channel names end up in paths and URLs: letters, digits,
// '.', '_' and '-', not starting with '.' or '-'.
bool is_release_name(const std::string& name);

// The manifest as publish writes it: keys in a fixed order, so the same
// release gives the same bytes.
std::string manifest_json(const Manifest& m);
// Every field checked: a manifest from the network is input, not trusted
// structure ("what" names where it came from in messages).
Result<Manifest> parse_manifest(const std::string& text, const std::string& what);

// A channel (channels/stable) names the manifest of its current release,
// relative to the channel file.
std::string channel_json(const std::string& manifest_path);
// The manifest path a channel names; an error when 'text' is no channel.
Result<std::string> parse_channel(const std::string& text, const std::string& what);
// Whether 'text' is a channel document rather than a manifest.
bool looks_like_channel(const std::string& text);

}  // namespace imgroot::release
