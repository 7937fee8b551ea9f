// The node's side of a release: assemble the image a manifest describes on
// the host partition, from the blocks the node already has and the frames
// it fetches (docs/releases.md, "Staging a release").
//
// Everything happens in the store, host_files::kFetchDir: the manifest, the
// index and image.part, the image as far as it is assembled. Blocks come
// first from image.part itself (an interrupted download of the same
// release: each block is checked against its hash, so what survived a kill
// or a power cut is kept and nothing else), then from hn-root.img,
// hn-root-old.img, hn-root-broken.img and an interrupted download of
// another release; the frames holding the rest are fetched, several ranges
// in flight, and each is checked (the frame's SHA-256, then each block's
// hash) before a byte of it is written. Blocks of zeros are never written:
// image.part stays sparse. The whole image's SHA-256 is checked last.
// Nothing here touches a boot name: the stage verb renames image.part in.
#pragma once

#include <csignal>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/error.h"
#include "release/manifest.h"

namespace imgroot::release {

struct FetchProgress {
  enum class Phase { kChecking, kSeeding, kFetching, kVerifying };
  Phase phase = Phase::kChecking;
  std::uint64_t total = 0;     // bytes of data blocks in the image
  std::uint64_t resumed = 0;   // found in image.part already
  std::uint64_t reused = 0;    // copied (or cloned) from the node's images
  std::uint64_t fetched = 0;   // image bytes that came over the network
  std::uint64_t received = 0;  // bytes received (compressed), index included
  std::uint64_t to_fetch = 0;  // compressed bytes of the frames to fetch
  std::uint64_t verified = 0;  // bytes of the whole-image check done
};

struct FetchRequest {
  std::string url;  // a manifest or a channel: http(s)://, file://, a path, a directory
  bool allow_reflink = true;
  int max_in_flight = 4;
  int give_up_after_s = 300;
  const volatile std::sig_atomic_t* cancel = nullptr;
  std::function<void(const FetchProgress&)> progress;  // may be empty
  // Called with the release's manifest, its exact bytes and its detached
  // signature (nullopt when the server has none) before a block is looked
  // at, also when a --download-only download is taken from the store: an
  // error stops everything (an untrusted signature, a downgrade, a known-bad
  // image). May be empty.
  std::function<Status(const Manifest&, const std::string& text, const std::optional<std::string>& signature)>
      accept;
};

struct Fetched {
  Manifest manifest;
  std::string manifest_url;
  std::string image;  // relative to the host partition: the assembled, verified image
  FetchProgress counts;
  bool offline = false;  // completed from the store without the network
};

// The release 'request.url' names, as far as deciding on it goes: the
// manifest, its exact bytes and its signature. Reads the channel, the
// manifest and the signature (or, without the network, a complete
// --download-only download of the same URL in the store) and nothing else;
// writes nothing. Calls request.accept.
struct Resolved {
  Manifest manifest;
  std::string text;                      // the manifest's exact bytes
  std::optional<std::string> signature;  // nullopt when the server has none
  std::string url;                       // what was asked for, as a URL
  std::string manifest_url;
  std::uint64_t received = 0;            // bytes received for all of it
  bool offline = false;                  // from a complete download in the store
};
Result<Resolved> resolve_release(int hostpart_dir, const FetchRequest& request);

// Assemble and verify the release 'resolved' describes in the store of the
// host partition open as 'hostpart_dir'. A second call after an
// interruption keeps what the first one wrote and verified.
Result<Fetched> fetch_release(int hostpart_dir, const FetchRequest& request, const Resolved& resolved);
// Both steps.
Result<Fetched> fetch_release(int hostpart_dir, const FetchRequest& request);

// Forget the store once its image is staged (or to start afresh).
Status clear_store(int hostpart_dir);

// A download in progress or left by an interruption, for `imgroot status`.
struct StoreState {
  std::string release;          // NAME-VERSION; empty when there is none
  std::string url;
  std::uint64_t image_size = 0;
  std::uint64_t written = 0;    // bytes allocated in image.part
  bool complete = false;        // verified, waiting to be staged (--download-only)
  bool running = false;         // an `imgroot stage` holds it now
};
Result<StoreState> store_state(int hostpart_dir);

// Whether 'arg' of `imgroot stage` names a release (a URL, a directory, a
// manifest or channel file) rather than an image file.
bool names_release(const std::string& arg);

}  // namespace imgroot::release
