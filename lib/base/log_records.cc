#include "base/log_records.h"

namespace imgroot {

namespace {

bool utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; }

// How much of 'text' fits in 'room' bytes without cutting a UTF-8 character.
std::size_t fitting(std::string_view text, std::size_t room) {
  if (text.size() <= room) return text.size();
  std::size_t n = room;
  while (n > 0 && utf8_continuation(text[n])) --n;
  return n > 0 ? n : room;  // not UTF-8 after all: cut where it fits
}

}  // namespace

std::vector<std::string> log_records(std::string_view head, std::string_view text,
                                     std::size_t max) {
  if (head.size() + text.size() + 1 <= max) return {std::string(head) + std::string(text) + "\n"};
  // Every record has room for its head, both marks and the newline.
  const std::size_t room = max - head.size() - 2 * kContinued.size() - 1;
  std::vector<std::string> records;
  while (!text.empty()) {
    const bool first = records.empty();
    // The last record has no closing mark: it may use that room too.
    const bool last = text.size() <= room + kContinued.size();
    const std::size_t n = last ? text.size() : fitting(text, room);
    std::string r(head);
    if (!first) r += kContinued;
    r += text.substr(0, n);
    if (!last) r += kContinued;
    r += "\n";
    records.push_back(std::move(r));
    text.remove_prefix(n);
  }
  return records;
}

}  // namespace imgroot
