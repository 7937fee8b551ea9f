// One log line as /dev/kmsg records. The kernel refuses (EINVAL) a write to
// /dev/kmsg longer than about 1 KiB, so a long line goes as several records,
// each marked as continuing the one before. Pure: the init's log writes them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace imgroot {

// What every kernel since 3.5 takes in one write, "<level>" and "\n" included.
inline constexpr std::size_t kKmsgRecordMax = 976;
// Ends a record the next one continues, and starts that next one.
inline constexpr std::string_view kContinued = "...";

// head + text + "\n" when that fits in 'max' bytes; else records of at most
// 'max' bytes: head + part + "...\n", head + "..." + part + "...\n", ...,
// head + "..." + last part + "\n". A UTF-8 character is never cut in two.
// 'head' ("<3>imgroot-init: ") must leave room for text in a record.
std::vector<std::string> log_records(std::string_view head, std::string_view text,
                                     std::size_t max = kKmsgRecordMax);

}  // namespace imgroot
