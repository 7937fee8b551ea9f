// imgroot diff A B: a reviewable file-level report of what differs between
// two images (or directories).
#include <cstdio>

#include "diff/json.h"
#include "diff/source.h"
#include "diff/text.h"
#include "diff/walk.h"
#include "verbs.h"

namespace imgroot::cli {

namespace {

const char* kUsage = "diff [--json] [--exclude GLOB]... [--trust-mtime] A B";

const char* kDescription =
    "Compare two images (or directories) entry by entry and report what was added (+),\n"
    "removed (-) and changed (~), one entry a line in path order, with what changed:\n"
    "type, content, size, mode, owner, symlink target, device numbers, xattrs and\n"
    "hard-link groups (listed after the walk), then the counts. Image files are\n"
    "mounted read-only, without journal replay, where no other process sees them;\n"
    "that needs root and loop devices. Regular files of equal size are compared byte\n"
    "by byte; changed ones are reported with both SHA-256s in --json. Timestamps are\n"
    "not compared. docs/diff.md has the details.";

// Output through one buffer: a report can have millions of lines.
class Out {
 public:
  ~Out() { flush(); }
  void write(const std::string& s) {
    buf_ += s;
    if (buf_.size() >= (64 << 10)) flush();
  }
  bool flush() {
    bool ok = std::fwrite(buf_.data(), 1, buf_.size(), stdout) == buf_.size();
    buf_.clear();
    return std::fflush(stdout) == 0 && ok;
  }

 private:
  std::string buf_;
};

class TextSink : public diff::Sink {
 public:
  explicit TextSink(Out& out) : out_(out) {}
  Status entry(const diff::Entry& e) override {
    out_.write(diff::format_entry(e) + "\n");
    return {};
  }

 private:
  Out& out_;
};

class JsonSink : public diff::Sink {
 public:
  explicit JsonSink(Out& out) : out_(out) { out_.write(report_.begin()); }
  Status entry(const diff::Entry& e) override {
    out_.write(report_.entry(e));
    return {};
  }
  void end(const diff::Summary& s) { out_.write(report_.end(s)); }

 private:
  Out& out_;
  diff::JsonReport report_;
};

}  // namespace

int run_diff(const std::vector<std::string>& args) {
  po::options_description options;
  options.add_options()("a", po::value<std::string>()->required()->value_name("A"),
                        "the old image or directory (first positional argument)")(
      "b", po::value<std::string>()->required()->value_name("B"),
      "the new image or directory (second positional argument)")(
      "json", po::bool_switch(), "print JSON (docs/diff.md) instead of text")(
      "exclude", po::value<std::vector<std::string>>()->composing()->value_name("GLOB"),
      "do not compare what matches (with '/': the path, e.g. '/var/log/*'; without: any "
      "name, e.g. '*.pyc'); repeatable")(
      "trust-mtime", po::bool_switch(),
      "take regular files of equal size and mtime to be equal without reading them");
  auto parsed = parse("diff", args, options, {{"a"}, {"b"}}, kUsage, kDescription);
  if (parsed.exit_now) return *parsed.exit_now;
  const auto& vars = parsed.vars;
  const std::string a_path = vars["a"].as<std::string>();
  const std::string b_path = vars["b"].as<std::string>();
  diff::Options opts;
  if (vars.count("exclude")) opts.excludes = vars["exclude"].as<std::vector<std::string>>();
  opts.trust_mtime = vars["trust-mtime"].as<bool>();

  const std::string what = "diff " + imgroot::quoted(a_path) + " " + imgroot::quoted(b_path);
  // A full comparison reads nearly every data block: read the images ahead.
  const bool warm = !opts.trust_mtime;
  auto a = diff::Tree::open(a_path, warm);
  if (!a) return report(std::move(a.error()).context(what));
  auto b = diff::Tree::open(b_path, warm);
  if (!b) return report(std::move(b.error()).context(what));

  Out out;
  Result<diff::Summary> summary;
  if (vars["json"].as<bool>()) {
    JsonSink sink(out);
    summary = diff::compare_trees(a->root(), b->root(), opts, sink);
    if (summary) sink.end(*summary);
  } else {
    TextSink sink(out);
    summary = diff::compare_trees(a->root(), b->root(), opts, sink);
    if (summary) out.write(diff::format_summary(*summary) + "\n");
  }
  const bool written = out.flush();
  if (!summary) return report(std::move(summary.error()).context(what));
  if (!written) return report(Error::from_errno(what + ": write the report"));
  return kExitOk;
}

}  // namespace imgroot::cli
