// Moving bytes over HTTP(S) and file:// with libcurl: whole small resources
// (a manifest, an index, a channel file) and many byte ranges of large ones
// (the chunks of a release), several transfers in flight on keep-alive
// connections, transient failures retried with backoff. One thread: the
// curl multi interface, driven by the caller's thread.
//
// Failures fall in two kinds. Permanent ones stop at once: HTTP 404 and 410
// (Error code ENOENT, so a caller can say "release not found"), 403 (EACCES),
// other 4xx, a server that answers a range request with the whole file, a
// range of the wrong length, a name that does not resolve, a missing local
// file. Transient ones are retried: HTTP 5xx, a refused or reset
// connection, a timeout, a stall (under 1 KiB/s for stall_seconds). The
// retries wait 0.5 s, doubling up to 10 s, for at most give_up_after_s
// since the first failure after the last range that completed; then the
// error names the URL and the last failure.
#pragma once

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "base/error.h"

namespace imgroot::net {

struct FetchPolicy {
  int max_in_flight = 4;       // transfers at once, on keep-alive connections to one host
  int connect_timeout_s = 10;
  int stall_seconds = 30;      // < 1 KiB/s for this long = a stall, retried
  int give_up_after_s = 300;   // retries of transient failures stop after this long in total
  // get() refuses a resource larger than this: it is held in memory.
  std::uint64_t max_whole_size = std::uint64_t{1} << 30;
  const volatile std::sig_atomic_t* cancel = nullptr;  // polled; non-zero stops (ECANCELED)
  // Bytes received so far over all transfers, retried ones included (so
  // it only grows); called on the calling thread between transfers' I/O.
  // May be empty.
  std::function<void(std::uint64_t bytes)> on_bytes;
};

// A whole small resource in memory. 'url' is http(s)://, file:// or a plain
// local path (turned into a file:// URL).
Result<std::string> get(const std::string& url, const FetchPolicy& policy);

struct RangeRequest {
  std::string url;  // as for get()
  std::uint64_t offset = 0;
  std::uint64_t length = 0;  // > 0
};

// Fetch every range, up to policy.max_in_flight at once, calling
// on_range(i, bytes) on the calling thread as range i completes, whole
// (exactly its length), in any order. A range cut by a transient failure is
// resumed where it stopped. An error from on_range stops everything and is
// returned.
Status get_ranges(std::span<const RangeRequest> ranges, const FetchPolicy& policy,
                  const std::function<Status(std::size_t, std::string_view)>& on_range);

// RFC 3986 section 5 reference resolution of 'relative' against 'base':
// dot segments removed, nothing percent-decoded. 'base' may be a plain
// local path (no "scheme://"): unless 'relative' is an absolute URL, the
// result is then a plain path too, the reference's path percent-decoded
// and joined lexically (a relative base keeps a leading ".."), its query
// and fragment dropped.
std::string resolve(const std::string& base, const std::string& relative);

// The file:// URL of a local path (made absolute against the working
// directory), percent-encoding what a URL path cannot hold. A string that
// already is a URL ("scheme://...") is returned as it is.
std::string to_url(const std::string& url_or_path);

}  // namespace imgroot::net
