#include "progress.h"

#include <unistd.h>

#include <cstdio>

#include "base/bytes.h"

namespace imgroot::cli {

namespace {

std::string duration(double seconds) {
  auto s = static_cast<long>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

}  // namespace

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)), enabled_(::isatty(STDERR_FILENO) == 1), start_(Clock::now()) {}

ProgressBar::~ProgressBar() { clear(); }

void ProgressBar::clear() {
  if (drawn_) std::fputs("\r\033[K", stderr);
  drawn_ = false;
}

void ProgressBar::relabel(std::string label) {
  label_ = std::move(label);
  start_ = Clock::now();
}

void ProgressBar::update(std::uint64_t done, std::uint64_t total, const std::string& note) {
  if (!enabled_) return;
  auto now = Clock::now();
  if (drawn_ && done < total && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  drawn_ = true;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double fraction = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  constexpr int kWidth = 30;
  auto filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::string eta = rate > 0 ? duration(static_cast<double>(total - done) / rate) : "?";
  std::fprintf(stderr, "\r\033[K%s [%s] %3d%% %s/%s %s/s ETA %s%s%s", label_.c_str(), bar.c_str(),
               static_cast<int>(fraction * 100), format_bytes(done).c_str(),
               format_bytes(total).c_str(),
               format_bytes(static_cast<std::uint64_t>(rate)).c_str(), eta.c_str(),
               note.empty() ? "" : " ", note.c_str());
  std::fflush(stderr);
}

}  // namespace imgroot::cli
