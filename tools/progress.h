// A one-line progress bar with rate and ETA, drawn on stderr only when it is
// a terminal; on a pipe or a file it draws nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace imgroot::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar();  // clears the line

  void update(std::uint64_t done, std::uint64_t total, const std::string& note = "");
  // A new stage of the work: a new label, and the rate counts from now.
  void relabel(std::string label);
  // Erase the bar, so that a line printed now starts at the left edge.
  void clear();

 private:
  using Clock = std::chrono::steady_clock;
  std::string label_;
  bool enabled_;
  Clock::time_point start_;
  Clock::time_point last_draw_{};
  bool drawn_ = false;
};

}  // namespace imgroot::cli
