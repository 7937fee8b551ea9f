// `imgroot stage`: check an image, copy it onto the host partition under a
// name no boot path loads, and give it the name hn-root-new.img in one
// rename, so the partition holds either the previous staged image or the
// complete new one, never a part of one.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/error.h"
#include "stage/copy.h"
#include "system/fd.h"

namespace imgroot::stage {

struct StageRequest {
  std::string image;                // the path given on the command line
  std::string init = "/sbin/init";  // must be an executable file in the image (image/bootable.h)
  bool inspect = true;              // mount the image to look inside (needs root)
  bool cancel_revert = false;       // drop a pending system-revert instead of refusing
  // Called once the copy is done, before anything other verbs read changes
  // (state.json, the revert flag, hn-root-new.img): the CLI takes the host
  // partition's lock here (state/host_lock.h). An error stages nothing.
  std::function<Status()> before_publish;
  bool boots_without_grub = false;  // the node boots without GRUB: erofs is fine
  bool force = false;  // stage an image given up before (state/known_bad.h)
  // A release assembled on the host partition (release/fetch.h): 'adopt' is
  // its file there (relative), verified against 'adopt_sha256', and becomes
  // the staged image by a hard link instead of a copy; 'image' is its path
  // for the checks. 'source' and the release fields go into the record.
  std::string adopt;
  std::string adopt_sha256;
  std::string source;  // default: the absolute path of 'image'
  std::string release;
  std::uint64_t release_version = 0;
  std::uint64_t bytes_fetched = 0;
  std::uint64_t bytes_reused = 0;
  std::string signed_by;  // release/signing.h: a key id, "unsigned" or "insecure"
};

struct Staged {
  std::string fs_type;
  Copied copy;
  bool cancelled_revert = false;
};

// The whole verb, in order: refuse a pending revert, check the image, remove
// a stale partial, check free space, copy with hash, before_publish, record,
// check for a revert again, rename, make it visible to GRUB.
Result<Staged> stage_image(int hostpart_dir, const StageRequest& request,
                           const CopyControl& control);

// Refuse an image whose SHA-256 is one given up before, unless 'force'
// (state/known_bad.h); hn-root-broken.img is remembered first.
Status refuse_given_up(int hostpart_dir, const std::string& sha256, bool force);

// Remove a partial copy that no running `imgroot stage` holds (its lock is
// gone with the process that was killed). Returns whether there was one.
Result<bool> remove_stale_partial(int hostpart_dir);

// Refuse, with how much is missing, when the host partition has less free
// space than a copy of 'image' takes. A reflink onto the same filesystem
// takes none, so it is not checked there.
Status check_free_space(int hostpart_dir, const Fd& image);

// A partial copy: created exclusively and locked, removed by the destructor
// unless it was published.
class Partial {
 public:
  static Result<Partial> create(int hostpart_dir);
  // The file 'name' of the host partition, complete, as the partial: a hard
  // link, so a crash before the publish leaves 'name' as it was.
  static Result<Partial> adopt(int hostpart_dir, const std::string& name);
  Partial(Partial&& other) noexcept;
  Partial& operator=(Partial&&) = delete;
  ~Partial();

  const Fd& fd() const { return fd_; }
  // fsync the data, then rename to hn-root-new.img and fsync the directory.
  Status publish();

 private:
  Partial(int dir, Fd fd) : dir_(dir), fd_(std::move(fd)) {}
  int dir_;
  Fd fd_;
  bool published_ = false;
};

// Copy 'image' into a new partial and hash it. On any error, the partial is
// gone and nothing else on the partition changed.
Result<std::pair<Partial, Copied>> copy_to_partial(int hostpart_dir, const Fd& image,
                                                   const CopyControl& control);

}  // namespace imgroot::stage
