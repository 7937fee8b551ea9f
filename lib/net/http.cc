// get() and get_ranges() on libcurl's multi interface: one Fetcher drives
// every transfer from the calling thread (docs at net/http.h).
#include "net/http.h"

#include <curl/curl.h>
#include <strings.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

namespace imgroot::net {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr long kStallBytesPerSecond = 1024;
constexpr milliseconds kFirstBackoff{500};
constexpr milliseconds kMaxBackoff{10'000};
// How often the loop wakes to look at the cancel flag when nothing happens.
constexpr milliseconds kCancelPoll{100};

Status global_init() {
  static const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (code != CURLE_OK) return fail(std::string("initialize libcurl: ") + curl_easy_strerror(code));
  return {};
}

// What one transfer is for: a whole resource, or one range of one.
struct Job {
  std::size_t index = 0;
  std::string url;       // as the caller spelled it, for messages
  std::string curl_url;  // what libcurl gets
  bool ranged = false;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::string body;  // received so far; a ranged job keeps it across retries

  std::string what() const {
    std::string w = "fetch " + quoted(url);
    if (ranged) w += " bytes " + std::to_string(offset) + "-" + std::to_string(offset + length - 1);
    return w;
  }
};

std::string status_text(long status) {
  const char* reason = nullptr;
  switch (status) {
    case 400: reason = "Bad Request"; break;
    case 401: reason = "Unauthorized"; break;
    case 403: reason = "Forbidden"; break;
    case 404: reason = "Not Found"; break;
    case 408: reason = "Request Timeout"; break;
    case 410: reason = "Gone"; break;
    case 416: reason = "Range Not Satisfiable"; break;
    case 429: reason = "Too Many Requests"; break;
    case 500: reason = "Internal Server Error"; break;
    case 502: reason = "Bad Gateway"; break;
    case 503: reason = "Service Unavailable"; break;
    case 504: reason = "Gateway Timeout"; break;
    default: break;
  }
  std::string text = "HTTP " + std::to_string(status);
  return reason ? text + " " + reason : text;
}

// How an attempt ended when it did not deliver its job whole.
struct Failure {
  bool transient = false;
  Error error;  // transient: error.message is the reason alone, without the URL
};

Failure permanent(Error e) { return {false, std::move(e)}; }
Failure transient(int code, std::string reason) { return {true, Error{code, std::move(reason)}}; }

class Fetcher;

// One easy handle in flight for a job; leaves the multi handle and is freed
// with this object.
struct Attempt {
  Fetcher* owner = nullptr;
  Job* job = nullptr;
  CURLM* multi = nullptr;
  CURL* easy = nullptr;
  Clock::time_point started;
  std::uint64_t first_byte = 0;  // the offset in the resource this attempt asked for
  bool response_checked = false;
  bool error_page = false;       // an HTTP error status: the body is not kept
  std::optional<Failure> abort;  // decided in a callback, which then stopped the transfer
  std::string content_range;     // of the last response's headers
  char errbuf[CURL_ERROR_SIZE] = {};

  Attempt() = default;
  Attempt(const Attempt&) = delete;
  Attempt& operator=(const Attempt&) = delete;
  ~Attempt() {
    if (easy) {
      (void)curl_multi_remove_handle(multi, easy);  // nothing to do about a failure here
      curl_easy_cleanup(easy);
    }
  }

  long response_code() const {
    long code = 0;
    (void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);  // stays 0 when unknown
    return code;
  }
  bool is_http() const {
    const char* scheme = nullptr;
    (void)curl_easy_getinfo(easy, CURLINFO_SCHEME, &scheme);  // null when unknown
    return scheme && (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0);
  }
};

struct MultiDeleter {
  void operator()(CURLM* m) const { (void)curl_multi_cleanup(m); }  // handles are gone by then
};

class Fetcher {
 public:
  using OnDone = std::function<Status(Job&)>;

  Fetcher(const FetchPolicy& policy, std::vector<Job>& jobs, OnDone on_done)
      : policy_(policy), on_done_(std::move(on_done)) {
    for (Job& j : jobs) pending_.push_back(&j);
  }

  Status run();

  // The write callback's work: append, or decide the attempt failed.
  std::size_t write(Attempt& a, const char* data, std::size_t size);

 private:
  Status start(Job& job);
  std::optional<Failure> check_response(Attempt& a);
  std::optional<Failure> outcome(Attempt& a, CURLcode result);
  Status finish(Attempt& a, CURLcode result);
  Status retry_later(Job& job, const Attempt& a, Error reason);
  void report_bytes();
  bool cancelled() const { return policy_.cancel && *policy_.cancel; }
  int max_in_flight() const { return std::max(1, policy_.max_in_flight); }

  const FetchPolicy& policy_;
  OnDone on_done_;
  std::unique_ptr<CURLM, MultiDeleter> multi_;
  std::vector<std::unique_ptr<Attempt>> active_;  // declared after multi_: freed before it
  std::deque<Job*> pending_;
  std::uint64_t received_ = 0;
  std::uint64_t reported_ = 0;
  // Retries: the backoff grows with each wave of failures and resets when
  // a job completes; nothing starts before resume_at_.
  int failures_ = 0;
  std::optional<Clock::time_point> failing_since_;
  Clock::time_point last_failure_{};
  Clock::time_point resume_at_{};
};

std::size_t write_callback(char* data, std::size_t size, std::size_t count, void* user) {
  auto* a = static_cast<Attempt*>(user);
  return a->owner->write(*a, data, size * count);
}

std::size_t header_callback(char* data, std::size_t size, std::size_t count, void* user) {
  auto* a = static_cast<Attempt*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) a->content_range.clear();  // a new response (after a redirect)
  constexpr std::string_view kName = "content-range:";
  if (line.size() > kName.size() && strncasecmp(line.data(), kName.data(), kName.size()) == 0) {
    line.remove_prefix(kName.size());
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
    a->content_range = std::string(line);
  }
  return size * count;
}

// The first byte of a Content-Range "bytes FIRST-LAST/SIZE", if it parses.
std::optional<std::uint64_t> content_range_first(const std::string& value) {
  if (!value.starts_with("bytes ")) return std::nullopt;
  std::uint64_t first = 0;
  std::size_t i = 6;
  if (i >= value.size() || !std::isdigit(static_cast<unsigned char>(value[i]))) return std::nullopt;
  for (; i < value.size() && std::isdigit(static_cast<unsigned char>(value[i])); ++i) {
    first = first * 10 + static_cast<std::uint64_t>(value[i] - '0');
  }
  return first;
}

std::optional<Failure> Fetcher::check_response(Attempt& a) {
  a.response_checked = true;
  if (!a.is_http()) return std::nullopt;
  const Job& j = *a.job;
  long status = a.response_code();
  a.error_page = status >= 400;
  if (a.error_page) return std::nullopt;  // outcome() judges it when the transfer ends
  if (!j.ranged) {
    if (status / 100 == 2) return std::nullopt;
    return permanent(Error::plain(j.what() + ": unexpected " + status_text(status)));
  }
  if (status == 200) {
    return permanent(Error::plain(
        j.what() + ": the server ignores Range requests (it answered 200 with the whole file, "
                   "not 206 with the range asked for); serve the release from a server that "
                   "honours them (nginx, Apache and object stores do)"));
  }
  if (status != 206) {
    return permanent(Error::plain(j.what() + ": unexpected " + status_text(status) +
                                  " to a range request (206 expected)"));
  }
  if (content_range_first(a.content_range) != a.first_byte) {
    return permanent(Error::plain(j.what() + ": the server answered a range request for byte " +
                                  std::to_string(a.first_byte) + " with '" + a.content_range +
                                  "'"));
  }
  return std::nullopt;
}

std::size_t Fetcher::write(Attempt& a, const char* data, std::size_t size) {
  Job& j = *a.job;
  if (cancelled()) {
    a.abort = permanent(Error{ECANCELED, j.what() + ": interrupted"});
    return 0;
  }
  if (!a.response_checked) a.abort = check_response(a);
  if (a.abort) return 0;
  if (a.error_page) return size;
  const std::uint64_t limit = j.ranged ? j.length : policy_.max_whole_size;
  if (j.body.size() + size > limit) {
    a.abort = permanent(Error::plain(
        j.ranged ? j.what() + ": the server sent more than the " + std::to_string(j.length) +
                       " bytes asked for"
                 : j.what() + ": larger than " + std::to_string(limit) +
                       " bytes, too large for a manifest, index or channel file"));
    return 0;
  }
  j.body.append(data, size);
  received_ += size;
  return size;
}

Status Fetcher::start(Job& job) {
  auto a = std::make_unique<Attempt>();
  a->owner = this;
  a->job = &job;
  a->multi = multi_.get();
  a->started = Clock::now();
  a->easy = curl_easy_init();
  if (!a->easy) return fail(job.what() + ": cannot create a libcurl handle");
  if (!job.ranged) job.body.clear();  // a whole resource starts again
  a->first_byte = job.ranged ? job.offset + job.body.size() : 0;

  CURL* e = a->easy;
  // Options that only fail for lack of memory or support; the transfer
  // itself reports anything that matters.
  (void)curl_easy_setopt(e, CURLOPT_URL, job.curl_url.c_str());
  (void)curl_easy_setopt(e, CURLOPT_PRIVATE, a.get());
  (void)curl_easy_setopt(e, CURLOPT_ERRORBUFFER, a->errbuf);
  (void)curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_callback);
  (void)curl_easy_setopt(e, CURLOPT_WRITEDATA, a.get());
  (void)curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_callback);
  (void)curl_easy_setopt(e, CURLOPT_HEADERDATA, a.get());
  (void)curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  (void)curl_easy_setopt(e, CURLOPT_USERAGENT, "imgroot/" IMGROOT_VERSION);
  (void)curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https,file");
  (void)curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  (void)curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
  (void)curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  (void)curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, static_cast<long>(policy_.connect_timeout_s));
  (void)curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, kStallBytesPerSecond);
  (void)curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, static_cast<long>(policy_.stall_seconds));
  if (job.ranged) {
    const std::string range =
        std::to_string(a->first_byte) + "-" + std::to_string(job.offset + job.length - 1);
    (void)curl_easy_setopt(e, CURLOPT_RANGE, range.c_str());  // libcurl copies it
  } else {
    (void)curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                           static_cast<curl_off_t>(policy_.max_whole_size));
  }
  if (CURLMcode mc = curl_multi_add_handle(multi_.get(), e); mc != CURLM_OK) {
    return fail(job.what() + ": " + curl_multi_strerror(mc));
  }
  active_.push_back(std::move(a));
  return {};
}

// The local file a file:// URL names, for its errno.
int local_file_errno(const std::string& url) {
  char* path = nullptr;
  CURLU* u = curl_url();
  int code = 0;
  if (u && curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) == CURLUE_OK) {
    struct stat st {};
    if (::stat(path, &st) != 0) code = errno;
  }
  curl_free(path);
  curl_url_cleanup(u);
  return code;
}

// Why the attempt did not deliver its job whole, or nothing if it did.
std::optional<Failure> Fetcher::outcome(Attempt& a, CURLcode result) {
  if (a.abort) return a.abort;
  Job& j = *a.job;
  const long status = a.is_http() ? a.response_code() : 0;
  if (status >= 400) {
    const std::string what = j.what() + ": " + status_text(status);
    if (status == 404 || status == 410) {
      return permanent(Error{ENOENT, what + ": the server has no such file; check the URL "
                                            "(the release's name, version or channel)"});
    }
    if (status == 403) {
      return permanent(Error{EACCES, what + ": the server refuses to serve it; check its "
                                            "permissions on the release's directory"});
    }
    if (status == 416) {
      return permanent(Error::plain(what + ": the file on the server is shorter than the index "
                                           "says; publish the release again"));
    }
    if (status >= 500 || status == 408 || status == 429) return transient(EIO, status_text(status));
    return permanent(Error::plain(what + ": the server refused the request"));
  }
  std::string detail = a.errbuf[0] ? a.errbuf : curl_easy_strerror(result);
  switch (result) {
    case CURLE_OK:
      break;
    case CURLE_OPERATION_TIMEDOUT: {
      curl_off_t connected = 0;
      (void)curl_easy_getinfo(a.easy, CURLINFO_CONNECT_TIME_T, &connected);  // 0 when unknown
      if (connected > 0 || !a.is_http()) {
        detail = "stalled: less than 1 KiB/s for " + std::to_string(policy_.stall_seconds) + " s";
      }
      return transient(ETIMEDOUT, detail);
    }
    case CURLE_COULDNT_CONNECT:
      return transient(ECONNREFUSED, detail);
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return transient(EIO, detail);
    case CURLE_FILE_COULDNT_READ_FILE:
      if (int code = local_file_errno(j.curl_url)) return permanent(Error::from_errno(j.what(), code));
      return permanent(Error::plain(j.what() + ": " + detail));
    case CURLE_BAD_DOWNLOAD_RESUME:  // file://: the range starts past the end
      return permanent(Error::plain(j.what() + ": past the end of the file: the file is shorter "
                                               "than the index says; publish the release again"));
    case CURLE_FILESIZE_EXCEEDED:
      return permanent(Error::plain(j.what() + ": larger than " +
                                    std::to_string(policy_.max_whole_size) +
                                    " bytes, too large for a manifest, index or channel file"));
    default:
      return permanent(Error::plain(j.what() + ": " + detail));
  }
  if (j.ranged && j.body.size() != j.length) {
    return permanent(Error::plain(j.what() + ": received " + std::to_string(j.body.size()) +
                                  " bytes, expected " + std::to_string(j.length) +
                                  ": the file is shorter than the index says; publish the "
                                  "release again"));
  }
  return std::nullopt;
}

Status Fetcher::retry_later(Job& job, const Attempt& a, Error reason) {
  const auto now = Clock::now();
  const auto give_up = std::chrono::seconds(policy_.give_up_after_s);
  if (!failing_since_) failing_since_ = now;
  if (now - *failing_since_ >= give_up) {
    return std::unexpected(Error{
        reason.code, job.what() + ": " + reason.message + " (retried for " +
                         std::to_string(policy_.give_up_after_s) +
                         " s): check the server and run the same command again: what was "
                         "fetched is kept"});
  }
  // The transfers in flight when the server went away fail together: one
  // wave, one step of backoff.
  if (a.started >= last_failure_) ++failures_;
  last_failure_ = now;
  auto delay = kFirstBackoff * (1LL << std::min(failures_ - 1, 10));
  resume_at_ = std::min(now + std::min<milliseconds>(delay, kMaxBackoff), *failing_since_ + give_up);
  pending_.push_front(&job);
  return {};
}

Status Fetcher::finish(Attempt& a, CURLcode result) {
  Job& job = *a.job;
  std::optional<Failure> failure = outcome(a, result);
  if (failure && !failure->transient) return std::unexpected(std::move(failure->error));
  if (failure) return retry_later(job, a, std::move(failure->error));
  failures_ = 0;
  failing_since_.reset();
  Status done = on_done_(job);
  std::string().swap(job.body);  // its memory goes now, not when every job is done
  return done;
}

void Fetcher::report_bytes() {
  if (received_ == reported_) return;
  reported_ = received_;
  if (policy_.on_bytes) policy_.on_bytes(received_);
}

Status Fetcher::run() {
  if (auto ok = global_init(); !ok) return ok;
  multi_.reset(curl_multi_init());
  if (!multi_) return fail("initialize libcurl: cannot create a multi handle");
  const long connections = max_in_flight();
  (void)curl_multi_setopt(multi_.get(), CURLMOPT_MAX_HOST_CONNECTIONS, connections);
  (void)curl_multi_setopt(multi_.get(), CURLMOPT_MAX_TOTAL_CONNECTIONS, connections);
  (void)curl_multi_setopt(multi_.get(), CURLMOPT_MAXCONNECTS, connections);

  while (!pending_.empty() || !active_.empty()) {
    if (cancelled()) {
      const Job* j = !active_.empty() ? active_.front()->job : pending_.front();
      return std::unexpected(Error{ECANCELED, j->what() + ": interrupted"});
    }
    const auto now = Clock::now();
    while (static_cast<int>(active_.size()) < max_in_flight() && !pending_.empty() &&
           now >= resume_at_) {
      if (auto started = start(*pending_.front()); !started) return started;
      pending_.pop_front();
    }
    int running = 0;
    if (CURLMcode mc = curl_multi_perform(multi_.get(), &running); mc != CURLM_OK) {
      return fail(std::string("fetch: ") + curl_multi_strerror(mc));
    }
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      auto it = std::find_if(active_.begin(), active_.end(),
                             [&](const auto& a) { return a->easy == msg->easy_handle; });
      if (it == active_.end()) continue;
      std::unique_ptr<Attempt> a = std::move(*it);
      active_.erase(it);
      const CURLcode result = msg->data.result;  // msg is invalid once the handle is removed
      Status finished = finish(*a, result);
      a.reset();
      if (!finished) return finished;
    }
    report_bytes();
    if (pending_.empty() && active_.empty()) break;
    auto wait = kCancelPoll;
    if (!pending_.empty() && resume_at_ > Clock::now()) {
      wait = std::clamp(std::chrono::ceil<milliseconds>(resume_at_ - Clock::now()),
                        milliseconds{1}, kCancelPoll);
    }
    if (CURLMcode mc = curl_multi_poll(multi_.get(), nullptr, 0, static_cast<int>(wait.count()),
                                       nullptr);
        mc != CURLM_OK) {
      return fail(std::string("fetch: ") + curl_multi_strerror(mc));
    }
  }
  return {};
}

}  // namespace

Result<std::string> get(const std::string& url, const FetchPolicy& policy) {
  std::vector<Job> jobs(1);
  jobs[0].url = url;
  jobs[0].curl_url = to_url(url);
  std::string body;
  Fetcher fetcher(policy, jobs, [&](Job& j) -> Status {
    body = std::move(j.body);
    return {};
  });
  if (auto ok = fetcher.run(); !ok) return std::unexpected(std::move(ok.error()));
  return body;
}

Status get_ranges(std::span<const RangeRequest> ranges, const FetchPolicy& policy,
                  const std::function<Status(std::size_t, std::string_view)>& on_range) {
  std::vector<Job> jobs(ranges.size());
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const RangeRequest& r = ranges[i];
    Job& j = jobs[i];
    j = Job{i, r.url, to_url(r.url), true, r.offset, r.length, {}};
    if (r.length == 0 || r.offset + r.length < r.offset) {
      return fail("fetch " + quoted(r.url) + ": bad range of " + std::to_string(r.length) +
                  " bytes at " + std::to_string(r.offset));
    }
  }
  Fetcher fetcher(policy, jobs, [&](Job& j) { return on_range(j.index, j.body); });
  return fetcher.run();
}

}  // namespace imgroot::net
