#include "fall_back.h"

#include "base/layout.h"

namespace imgroot::init {

namespace {

void add_outcome(std::vector<LogLine>& lines, const rotation::Outcome& outcome,
                 const std::string& step_prefix) {
  for (const auto& line : outcome.ignored) lines.push_back({Level::kWarning, line});
  for (const auto& step : outcome.steps) lines.push_back({Level::kInfo, step_prefix + step});
}

}  // namespace

void log_all(const std::vector<LogLine>& lines) {
  for (const auto& line : lines) log(line.level, line.text);
}

std::vector<LogLine> rotation_log(const rotation::Outcome& outcome) {
  std::vector<LogLine> lines;
  add_outcome(lines, outcome, "rotation: ");
  if (outcome.dropped_stale_flag)
    lines.push_back({Level::kWarning, std::string("a revert was requested but there is no ") +
                                          host_files::kOld + "; booting " + host_files::kCurrent});
  return lines;
}

std::vector<LogLine> fall_back_log(const rotation::Outcome& outcome) {
  std::vector<LogLine> lines;
  add_outcome(lines, outcome, "fall back: ");
  return lines;
}

bool may_fall_back(int fallen_back) { return fallen_back < rotation::kMaxFallBacks; }

std::optional<std::string> kernel_left_behind(const std::optional<std::string>& grub_image) {
  if (!grub_image) return std::nullopt;
  return "the kernel of " + *grub_image + " runs, but its image cannot be booted";
}

}  // namespace imgroot::init
