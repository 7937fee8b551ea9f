// The text report of `imgroot diff`: one line per entry, made for review.
//
//   + /usr/bin/new
//   - /var/old
//   ~ /etc/hosts content,size(12->20),mode(0644->0600)
//   ~ /bin/sh target(dash->bash)
//   ~ /usr/bin/gunzip links(+/usr/bin/zcat,-/usr/bin/gzip)
//   3 added, 1 removed, 4 changed (content 1, size 1, mode 1, target 1, links 1)
#pragma once

#include <string>
#include <string_view>

#include "diff/entry.h"

namespace imgroot::diff {

// A path or name with every byte that could break a line or mislead a
// reader written as \xNN: control characters, DEL, backslash, and bytes
// that are not valid UTF-8. Everything else, spaces included, stays.
std::string escape(std::string_view s);

// "0644"
std::string octal_mode(mode_t perm);

// The line for one entry, without the newline.
std::string format_entry(const Entry& entry);

// The summary line, without the newline.
std::string format_summary(const Summary& summary);

}  // namespace imgroot::diff
