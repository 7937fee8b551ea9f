// Long log lines as /dev/kmsg records (base/log_records.h).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "base/log_records.h"

using namespace imgroot;

namespace {

const std::string kHead = "<3>imgroot-init: ";

// The records without their head, "..." marks and newline, joined.
std::string rejoin(const std::vector<std::string>& records) {
  std::string out;
  for (std::size_t i = 0; i < records.size(); ++i) {
    std::string_view r = records[i];
    r.remove_prefix(kHead.size());
    if (i > 0) r.remove_prefix(kContinued.size());
    r.remove_suffix(1);  // "\n"
    if (i + 1 < records.size()) r.remove_suffix(kContinued.size());
    out += r;
  }
  return out;
}

}  // namespace

TEST_CASE("a line that fits is one record ending in a newline", "[log]") {
  CHECK(log_records(kHead, "booting hn-root.img") ==
        std::vector<std::string>{kHead + "booting hn-root.img\n"});
  const std::string exact(kKmsgRecordMax - kHead.size() - 1, 'x');
  CHECK(log_records(kHead, exact).size() == 1);
}

TEST_CASE("a line longer than the kernel takes is split into marked records that each fit",
          "[log]") {
  std::string text;
  for (int i = 0; text.size() < 3000; ++i) text += "/dev/sd" + std::to_string(i) + " ";
  const auto records = log_records(kHead, text);

  REQUIRE(records.size() == 4);
  for (std::size_t i = 0; i < records.size(); ++i) {
    INFO("record " << i);
    CHECK(records[i].size() <= kKmsgRecordMax);
    CHECK(records[i].starts_with(kHead + (i > 0 ? std::string(kContinued) : "")));
    CHECK(records[i].ends_with(i + 1 < records.size() ? std::string(kContinued) + "\n" : "\n"));
    CHECK(records[i].find('\n') == records[i].size() - 1);
  }
  CHECK(rejoin(records) == text);
}

TEST_CASE("splitting a line never cuts a UTF-8 character in two", "[log]") {
  std::string text;
  while (text.size() < 2000) text += "\xc3\xa9t\xc3\xa9 ";  // "été "
  const auto records = log_records(kHead, text, 100);

  REQUIRE(records.size() > 1);
  for (const auto& r : records) {
    CHECK(r.size() <= 100);
    const std::size_t body = kHead.size() + (&r == &records.front() ? 0 : kContinued.size());
    // No record's text starts with a UTF-8 continuation byte.
    CHECK((static_cast<unsigned char>(r[body]) & 0xc0) != 0x80);
  }
  CHECK(rejoin(records) == text);
}
