// Copying and hashing a file in stages that overlap: a reader thread reads
// the source's data extents, in order, into a small ring of buffers; the
// calling thread hashes each block (and polls for cancellation); a writer
// thread writes it to the destination (stage/direct_write.h); and a flusher
// thread fdatasyncs what is written every kFlushEvery bytes, so the disk
// works while the copy goes on and the caller's final fsync has little left.
// Each block is read once, and written from the buffer it was hashed in.
//
// The threads block all signals: a stop signal reaches the calling thread,
// which polls the flag its handler sets.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"
#include "stage/direct_write.h"

namespace imgroot::stage {

class Pipeline {
 public:
  static constexpr std::size_t kBlock = 4u << 20;   // bytes per buffer
  static constexpr std::size_t kBuffers = 6;        // the ring
  static constexpr std::uint64_t kFlushEvery = 256u << 20;

  // One step through the source, in file order: data to hash (and copy), or
  // a hole of 'size' bytes that reads as zeros ('data' empty).
  struct Block {
    off_t offset = 0;
    std::size_t size = 0;
    std::span<const unsigned char> data;
  };

  // Start reading the first 'size' bytes of 'source' (named 'source_name' in
  // messages, e.g. "the source"); with a 'dest' (not -1, named 'dest_name'),
  // also start writing and flushing it.
  static Result<std::unique_ptr<Pipeline>> start(int source, std::string source_name, off_t size,
                                                 int dest, std::string dest_name);
  ~Pipeline();  // stops every thread; blocks not yet written are dropped
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // The next block once it is read; nullopt after the last one; the first
  // error of any thread instead.
  Result<std::optional<Block>> next();
  // The caller is done with the block next() returned: it goes to the writer.
  void release();
  // Wait until every block is written (not necessarily flushed) and the
  // flusher has stopped; the first error of any thread.
  Status finish();

 private:
  struct Slot {
    off_t offset = 0;
    std::size_t size = 0;
    bool hole = false;
  };

  Pipeline(int source, std::string source_name, off_t size, int dest, std::string dest_name);
  void read_all(std::stop_token stop);
  Result<bool> read_extents(const std::stop_token& stop);
  bool wait_for_slot(const std::stop_token& stop);
  void push(Slot slot);
  void write_all(std::stop_token stop);
  void flush_all(std::stop_token stop);
  void failed(Error e);
  unsigned char* buffer(std::size_t count) const;

  const int source_;
  const std::string source_name_;
  const off_t size_;
  const int dest_;
  const std::string dest_name_;
  std::optional<DirectWriter> writer_;  // only the writer thread uses it
  struct Free {
    void operator()(unsigned char* p) const;
  };
  std::unique_ptr<unsigned char, Free> memory_;
  std::vector<Slot> slots_;

  // Counters of slots, each only ever grows: read_ >= hashed_ >= written_.
  std::mutex mutex_;
  std::condition_variable_any changed_;
  std::size_t read_ = 0;
  std::size_t hashed_ = 0;
  std::size_t written_ = 0;
  std::uint64_t written_bytes_ = 0;
  bool read_everything_ = false;
  std::optional<Error> error_;

  // Last: stopped and joined before the members above go.
  std::jthread reader_, writer_thread_, flusher_;
};

}  // namespace imgroot::stage
