// imgroot's own record of the images on the host partition, kept in
// imgroot/state.json (docs/design.md section 1: the imgroot/ state directory).
//
// Images change names at boot (rotation renames and links them) but keep
// their inode, so a record is tied to the inode, not to a name.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/rfc3339.h"

namespace imgroot::state {

enum class Assessment { kNone, kGood, kBad };
const char* assessment_name(Assessment a);  // "unassessed", "good", "bad"
std::optional<Assessment> parse_assessment(std::string_view name);

struct ImageRecord {
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;  // when it was staged; a later mtime means it was written since
  std::string sha256;         // of the content as staged; empty when not known
  bool reflinked = false;     // staged as a reflink of the source (then sha256 is
                              // empty unless `stage --hash` asked for it)
  std::string source;         // the path or URL it was staged from
  // Staged from a published release (imgroot stage URL): its NAME-VERSION,
  // and what the node fetched over the network and found in its own images.
  std::string release;
  std::uint64_t release_version = 0;
  std::uint64_t bytes_fetched = 0;
  std::uint64_t bytes_reused = 0;
  // Who signed it: a key id, "unsigned" (the node had no keys), "insecure"
  // (staged with --insecure); empty when not known.
  std::string signed_by;
  std::string staged_at;      // RFC 3339, UTC
  Assessment assessment = Assessment::kNone;
  std::string assessed_at;    // RFC 3339, UTC; empty while unassessed

  // The record describes this file (same inode and size).
  bool describes(const struct stat& st) const;
  // `imgroot stage` wrote this record (not only mark-good or mark-bad).
  bool staged() const { return !sha256.empty() || reflinked; }
};

// An image given up: it became hn-root-broken.img (reverted away from,
// discarded before it ever became current, or unbootable). Remembered by its
// SHA-256 after its file is gone, so `imgroot stage` does not stage it again
// by accident (state/known_bad.h).
struct Rejected {
  std::string sha256;
  std::string source;       // where it was staged from
  std::string staged_at;
  std::string given_up_at;  // RFC 3339: when it became hn-root-broken.img
  Assessment assessment = Assessment::kNone;  // bad, or none: its trial ran out without a verdict
};

struct StateFile {
  std::vector<ImageRecord> images;
  std::vector<Rejected> rejected;  // oldest first, at most kMaxRejected

  ImageRecord* find(const struct stat& st);
  const ImageRecord* find(const struct stat& st) const;
};

inline constexpr std::size_t kMaxRejected = 32;

// The state of the host partition open as 'hostpart_dir'; empty when there
// is no state file yet. A file that does not parse is an error naming it.
Result<StateFile> load_state(int hostpart_dir);

// Write the state atomically (temp, fsync, rename, fsync), creating
// imgroot/ when needed. The image at hn-root-broken.img joins 'rejected'
// first (state/known_bad.h). Records of files that are none of the images any
// more (nor 'also_keep', a file about to become one) are dropped first.
Status save_state(int hostpart_dir, StateFile state,
                  const std::optional<struct stat>& also_keep = std::nullopt);

// A record for a file as it is now (inode, size, mtime).
ImageRecord record_for(const struct stat& st);

// RFC 3339 UTC ("2026-11-21T20:38:21Z"), now or of a time (base/rfc3339.h).
using imgroot::format_rfc3339;
using imgroot::now_rfc3339;

// The JSON text of a state and back; the adapter around nlohmann::json.
std::string state_to_json(const StateFile& state);
Result<StateFile> state_from_json(const std::string& text);

}  // namespace imgroot::state
