// `imgroot publish`: turn an image into a release in a directory that any
// static HTTP server can serve (docs/releases.md):
//
//   DIR/packs/<sha256>.pack                 zstd frames of blocks, shared by releases
//   DIR/releases/NAME-VERSION/manifest.json the release (release/manifest.h)
//   DIR/releases/NAME-VERSION/index.zst     its blocks (release/index.h)
//   DIR/channels/CHANNEL                    names a release's manifest
//
// Only blocks no earlier release in DIR has go into the new pack. Each file
// appears complete under its name (written aside, fsynced, renamed), the
// release directory in one rename, the channel last: a reader never sees a
// half-written release. The same image, DIR and SOURCE_DATE_EPOCH give the
// same bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/error.h"
#include "release/manifest.h"

namespace imgroot::release {

struct PublishRequest {
  std::string image;
  std::string dir;
  std::string name;
  std::optional<std::uint64_t> version;  // default: the highest of 'name' in DIR, plus one
  std::optional<std::string> channel;
  std::uint32_t block_size = 4096;
  std::uint64_t frame_bytes = 4u << 20;  // chosen by measurement: docs/releases.md
  int level = 19;
  std::int64_t created = 0;  // seconds since the epoch (SOURCE_DATE_EPOCH or now)
  // A private key (release/signing.h): the manifest is signed, the
  // signature written beside it as part of the release.
  std::optional<std::string> key;
  // The image bytes read so far, of the total; may be empty.
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
};

struct Published {
  Manifest manifest;
  std::string manifest_path;  // relative to DIR
  bool already = false;       // the same release was there, byte for byte
  std::uint64_t blocks_new = 0;
  std::uint64_t blocks_known = 0;  // found in DIR's earlier releases (or earlier in the image)
  std::uint64_t blocks_zero = 0;
  std::uint64_t pack_bytes = 0;  // written to the new pack
  std::uint64_t index_bytes = 0;
  std::string signed_by;  // the key's id; empty when not signed
};

Result<Published> publish_release(const PublishRequest& request);

// Release directories hold "NAME-VERSION"; the highest VERSION of 'name', 0
// if none.
Result<std::uint64_t> highest_version(int releases_dir, const std::string& name);

}  // namespace imgroot::release
