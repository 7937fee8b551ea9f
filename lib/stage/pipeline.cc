#include "stage/pipeline.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <system_error>

namespace imgroot::stage {

namespace {

struct Extent {
  off_t start;
  off_t end;
};

// The next data extent at or after 'pos', clamped to 'size'; nullopt when
// only holes remain. Filesystems without SEEK_DATA report everything as data.
Result<std::optional<Extent>> next_data(int fd, const std::string& what, off_t pos, off_t size) {
  off_t data = ::lseek(fd, pos, SEEK_DATA);
  if (data < 0) {
    if (errno == ENXIO) return std::nullopt;
    if (errno == EINVAL || errno == EOPNOTSUPP) return Extent{pos, size};
    return fail_errno("find data in " + what);
  }
  if (data >= size) return std::nullopt;
  off_t hole = ::lseek(fd, data, SEEK_HOLE);
  if (hole < 0) return fail_errno("find a hole in " + what);
  return Extent{data, std::min(hole, size)};
}

void block_signals() {
  sigset_t all;
  sigfillset(&all);
  (void)::pthread_sigmask(SIG_BLOCK, &all, nullptr);  // cannot fail with SIG_BLOCK and a valid set
}

}  // namespace

void Pipeline::Free::operator()(unsigned char* p) const { std::free(p); }

Pipeline::Pipeline(int source, std::string source_name, off_t size, int dest,
                   std::string dest_name)
    : source_(source), source_name_(std::move(source_name)), size_(size), dest_(dest),
      dest_name_(std::move(dest_name)), slots_(kBuffers) {
  if (dest_ >= 0) writer_.emplace(dest_, dest_name_);
}

Pipeline::~Pipeline() = default;  // the jthreads stop and join first

Result<std::unique_ptr<Pipeline>> Pipeline::start(int source, std::string source_name, off_t size,
                                                  int dest, std::string dest_name) {
  std::unique_ptr<Pipeline> p(
      new Pipeline(source, std::move(source_name), size, dest, std::move(dest_name)));
  p->memory_.reset(
      static_cast<unsigned char*>(std::aligned_alloc(DirectWriter::kAlign, kBuffers * kBlock)));
  if (!p->memory_) return fail_errno("allocate the copy buffers", ENOMEM);
  // Only advice: the copy is correct without it.
  (void)::posix_fadvise(source, 0, 0, POSIX_FADV_SEQUENTIAL);
  try {
    p->reader_ = std::jthread([raw = p.get()](std::stop_token stop) { raw->read_all(stop); });
    if (p->writer_) {
      p->writer_thread_ =
          std::jthread([raw = p.get()](std::stop_token stop) { raw->write_all(stop); });
      p->flusher_ = std::jthread([raw = p.get()](std::stop_token stop) { raw->flush_all(stop); });
    }
  } catch (const std::system_error& e) {
    return fail_errno("start the copy threads", e.code().value());
  }
  return p;
}

unsigned char* Pipeline::buffer(std::size_t count) const {
  return memory_.get() + (count % kBuffers) * kBlock;
}

void Pipeline::failed(Error e) {
  if (!error_) error_ = std::move(e);
}

Result<std::optional<Pipeline::Block>> Pipeline::next() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return error_ || hashed_ < read_ || read_everything_; });
  if (error_) return std::unexpected(*error_);
  if (hashed_ == read_) return std::nullopt;
  const Slot& s = slots_[hashed_ % kBuffers];
  Block b{s.offset, s.size, {}};
  if (!s.hole) b.data = std::span<const unsigned char>(buffer(hashed_), s.size);
  return b;
}

void Pipeline::release() {
  {
    std::lock_guard lock(mutex_);
    ++hashed_;
    if (!writer_) written_ = hashed_;
  }
  changed_.notify_all();
}

Status Pipeline::finish() {
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return error_ || (read_everything_ && written_ == read_); });
  }
  // Wait for a flush in progress: its error must not be lost, and the
  // caller's own fsync of the same open file would not report it again.
  if (flusher_.joinable()) {
    flusher_.request_stop();
    flusher_.join();
  }
  std::lock_guard lock(mutex_);
  if (error_) return std::unexpected(*error_);
  return {};
}

void Pipeline::read_all(std::stop_token stop) {
  block_signals();
  auto done = read_extents(stop);
  {
    std::lock_guard lock(mutex_);
    if (!done) failed(std::move(done.error()));
    else if (*done) read_everything_ = true;
  }
  changed_.notify_all();
}

bool Pipeline::wait_for_slot(const std::stop_token& stop) {
  std::unique_lock lock(mutex_);
  return changed_.wait(lock, stop, [this] { return error_ || read_ - written_ < kBuffers; }) &&
         !error_;
}

void Pipeline::push(Slot slot) {
  {
    std::lock_guard lock(mutex_);
    slots_[read_ % kBuffers] = slot;
    ++read_;
  }
  changed_.notify_all();
}

// Returns false when stopped, or when another thread failed: whoever stopped
// it knows why.
Result<bool> Pipeline::read_extents(const std::stop_token& stop) {
  for (off_t pos = 0; pos < size_;) {
    auto extent = next_data(source_, source_name_, pos, size_);
    if (!extent) return std::unexpected(extent.error());
    const off_t data_start = *extent ? (*extent)->start : size_;
    if (data_start > pos) {
      if (!wait_for_slot(stop)) return false;
      push({pos, static_cast<std::size_t>(data_start - pos), true});
    }
    if (!*extent) break;
    const off_t data_end = (*extent)->end;
    for (off_t off = data_start; off < data_end;) {
      if (!wait_for_slot(stop)) return false;
      const auto want = static_cast<std::size_t>(std::min<off_t>(data_end - off, kBlock));
      ssize_t n = ::pread(source_, buffer(read_), want, off);  // only this thread changes read_
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail_errno("read " + source_name_);
      }
      if (n == 0) return fail("read " + source_name_ + ": it shrank while being copied");
      // Only advice: have the disk read the next block while this one is hashed.
      if (off + n < data_end)
        (void)::posix_fadvise(source_, off + n, static_cast<off_t>(kBlock), POSIX_FADV_WILLNEED);
      push({off, static_cast<std::size_t>(n), false});
      off += n;
    }
    pos = data_end;
  }
  return true;
}

void Pipeline::write_all(std::stop_token stop) {
  block_signals();
  for (;;) {
    std::size_t count;
    Slot s;
    {
      std::unique_lock lock(mutex_);
      if (!changed_.wait(lock, stop, [this] { return error_ || written_ < hashed_; }) || error_)
        return;
      count = written_;
      s = slots_[count % kBuffers];
    }
    Status st;
    if (!s.hole) st = writer_->write(buffer(count), s.size, s.offset);
    {
      std::lock_guard lock(mutex_);
      if (st) {
        ++written_;
        if (!s.hole) written_bytes_ += s.size;
      } else {
        failed(std::move(st.error()));
      }
    }
    changed_.notify_all();
    if (!st) return;
  }
}

void Pipeline::flush_all(std::stop_token stop) {
  block_signals();
  std::uint64_t flushed = 0;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (!changed_.wait(lock, stop,
                         [&] { return error_ || written_bytes_ - flushed >= kFlushEvery; }) ||
          error_)
        return;
      flushed = written_bytes_;
    }
    if (::fdatasync(dest_) < 0) {
      int saved = errno;
      {
        std::lock_guard lock(mutex_);
        failed(Error::from_errno("flush " + quoted(dest_name_), saved));
      }
      changed_.notify_all();
      return;
    }
  }
}

}  // namespace imgroot::stage
