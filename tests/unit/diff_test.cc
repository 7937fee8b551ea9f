// imgroot diff on directory trees (no root needed): what is reported, in
// which order, and how.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "diff/json.h"
#include "diff_support.h"

using namespace imgroot;
using namespace imgroot::test;

namespace {

struct Trees {
  TempDir tmp;
  std::string a = tmp / "a";
  std::string b = tmp / "b";
  Trees() {
    dir(a);
    dir(b);
  }
  // 'path' in both trees, holding 'in_a' in a and 'in_b' in b.
  void both(const std::string& path, const std::string& in_a, const std::string& in_b) const {
    file(a + path, in_a);
    file(b + path, in_b);
  }
  // Files holding "x" at 'paths' in b only.
  void added(std::initializer_list<std::string> paths) const {
    for (const auto& path : paths) file(b + path, "x");
  }
};

}  // namespace

TEST_CASE("identical trees report nothing but zero counts", "[diff]") {
  Trees t;
  for (const auto& root : {t.a, t.b}) {
    file(root + "/etc/hosts", "127.0.0.1 localhost\n");
    symlink("hosts", root + "/etc/link");
    dir(root + "/var/empty", 0700);
  }
  CHECK(report(t.a, t.b) == "0 added, 0 removed, 0 changed\n");
}

TEST_CASE("added, removed and changed entries come one a line in path order", "[diff]") {
  Trees t;
  t.both("/etc/content", "aaaa\n", "bbbb\n");
  t.both("/etc/size", "short\n", "longer text\n");
  file(t.a + "/etc/mode", "m\n", 0644);
  file(t.b + "/etc/mode", "m\n", 0600);
  symlink("target1", t.a + "/etc/link");
  symlink("target2", t.b + "/etc/link");
  file(t.a + "/etc/file-to-dir", "f\n");
  file(t.b + "/etc/file-to-dir/inside", "i\n");
  file(t.a + "/etc/file-to-link", "f\n");
  symlink("content", t.b + "/etc/file-to-link");
  file(t.a + "/var/old/log", "old\n");
  file(t.b + "/usr/new/tool", "new\n");
  dir(t.a + "/usr");
  dir(t.b + "/var");
  CHECK(report(t.a, t.b) ==
        "~ /etc/content content\n"
        "~ /etc/file-to-dir type(file->dir)\n"
        "+ /etc/file-to-dir/inside\n"
        "~ /etc/file-to-link type(file->symlink)\n"
        "~ /etc/link target(target1->target2)\n"
        "~ /etc/mode mode(0644->0600)\n"
        "~ /etc/size content,size(6->12)\n"
        "+ /usr/new\n"
        "+ /usr/new/tool\n"
        "- /var/old\n"
        "- /var/old/log\n"
        "3 added, 2 removed, 6 changed (type 2, content 2, size 1, mode 1, target 1)\n");
}

TEST_CASE("a directory's entries follow it, before its later siblings", "[diff]") {
  Trees t;
  // Byte order would put "a-c" before "a/b"; the report keeps a's entries with a.
  t.added({"/a/b", "/a-c"});
  CHECK(report(t.a, t.b) == "+ /a\n+ /a/b\n+ /a-c\n3 added, 0 removed, 0 changed\n");
}

TEST_CASE("xattrs are compared by name and value", "[diff]") {
  Trees t;
  t.both("/f", "x", "x");
  if (!set_xattr(t.a + "/f", "user.changed", "1")) {
    WARN("skipped: the temporary directory's filesystem has no user xattrs");
    return;
  }
  REQUIRE(set_xattr(t.b + "/f", "user.changed", "2"));
  REQUIRE(set_xattr(t.a + "/f", "user.removed", "r"));
  REQUIRE(set_xattr(t.b + "/f", "user.added", "a"));
  REQUIRE(set_xattr(t.a + "/f", "user.same", "s"));
  REQUIRE(set_xattr(t.b + "/f", "user.same", "s"));
  CHECK(report(t.a, t.b) ==
        "~ /f xattrs(+user.added,~user.changed,-user.removed)\n"
        "0 added, 0 removed, 1 changed (xattrs 1)\n");
}

TEST_CASE("hard-link changes are listed after the walk and each path counted once", "[diff]") {
  Trees t;
  for (const auto& root : {t.a, t.b}) {
    file(root + "/bin/a", "tool\n");
    file(root + "/bin/c", "tool\n");
  }
  std::filesystem::create_hard_link(t.a + "/bin/a", t.a + "/bin/b");
  file(t.b + "/bin/b", "tool\n");
  std::filesystem::remove(t.b + "/bin/c");
  std::filesystem::create_hard_link(t.b + "/bin/a", t.b + "/bin/c");
  ::chmod((t.b + "/bin/b").c_str(), 0600);  // b is also changed in the walk
  CHECK(report(t.a, t.b) ==
        "~ /bin/b mode(0644->0600)\n"
        "~ /bin/a links(-/bin/b,+/bin/c)\n"
        "~ /bin/b links(-/bin/a)\n"
        "~ /bin/c links(+/bin/a)\n"
        "0 added, 0 removed, 3 changed (mode 1, links 3)\n");
}

TEST_CASE("excluded paths and names are neither compared nor entered", "[diff]") {
  Trees t;
  t.added({"/var/log/syslog", "/var/log/old/1", "/var/lib/x", "/usr/lib/mod.pyc",
           "/usr/lib/mod.py"});
  diff::Options options;
  options.excludes = {"/var/log/*", "*.pyc"};
  CHECK(report(t.a, t.b, options) ==
        "+ /usr\n+ /usr/lib\n+ /usr/lib/mod.py\n+ /var\n+ /var/lib\n+ /var/lib/x\n+ /var/log\n"
        "7 added, 0 removed, 0 changed\n");
}

TEST_CASE("with trust_mtime, equal size and mtime are taken as equal content", "[diff]") {
  Trees t;
  t.both("/f", "aaaa", "bbbb");
  struct timespec times[2] = {{1'000'000, 5}, {1'000'000, 5}};
  REQUIRE(::utimensat(AT_FDCWD, (t.a + "/f").c_str(), times, 0) == 0);
  REQUIRE(::utimensat(AT_FDCWD, (t.b + "/f").c_str(), times, 0) == 0);
  CHECK(report(t.a, t.b) == "~ /f content\n0 added, 0 removed, 1 changed (content 1)\n");
  diff::Options trusting;
  trusting.trust_mtime = true;
  CHECK(report(t.a, t.b, trusting) == "0 added, 0 removed, 0 changed\n");
  times[1].tv_nsec = 6;  // an mtime one nanosecond apart is read again
  REQUIRE(::utimensat(AT_FDCWD, (t.b + "/f").c_str(), times, 0) == 0);
  CHECK(report(t.a, t.b, trusting) == "~ /f content\n0 added, 0 removed, 1 changed (content 1)\n");
}

TEST_CASE("files longer than a read chunk are compared to the last byte", "[diff]") {
  Trees t;
  std::string big(1 << 20, 'x');
  t.both("/same", big, big);
  file(t.a + "/last", big);
  big.back() = 'y';
  file(t.b + "/last", big);
  CHECK(report(t.a, t.b) == "~ /last content\n0 added, 0 removed, 1 changed (content 1)\n");
}

TEST_CASE("names that could break a line or mislead are escaped", "[diff]") {
  Trees t;
  t.added({"/new\nline", "/back\\slash", std::string("/bad\xff") + "byte", "/caf\xc3\xa9 ok"});
  CHECK(report(t.a, t.b) ==
        "+ /back\\x5cslash\n+ /bad\\xffbyte\n+ /caf\xc3\xa9 ok\n+ /new\\x0aline\n"
        "4 added, 0 removed, 0 changed\n");
  CHECK(diff::escape("\x7f\t") == "\\x7f\\x09");
  CHECK(diff::escape("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // a UTF-16 surrogate is not UTF-8
}

TEST_CASE("the JSON report holds the same entries and counts, one entry a line", "[diff]") {
  Trees t;
  t.both("/etc/content", "aaaa\n", "bbbb\n");
  file(t.b + "/etc/new", "n\n", 0600);
  symlink("x", t.a + "/etc/old");
  auto fa = Fd::open(t.a, O_RDONLY | O_DIRECTORY);
  auto fb = Fd::open(t.b, O_RDONLY | O_DIRECTORY);
  REQUIRE(fa);
  REQUIRE(fb);
  struct Sink : diff::Sink {
    diff::JsonReport json;
    std::string out;
    Status entry(const diff::Entry& e) override {
      out += json.entry(e);
      return {};
    }
  } sink;
  sink.out = sink.json.begin();
  auto summary = diff::compare_trees(fa->get(), fb->get(), {}, sink);
  REQUIRE(summary);
  sink.out += sink.json.end(*summary);
  // A line for the start and each entry, two for the end.
  CHECK(std::count(sink.out.begin(), sink.out.end(), '\n') == 5);
  auto j = nlohmann::json::parse(sink.out);
  REQUIRE(j["entries"].size() == 3);
  const auto& changed = j["entries"][0];
  CHECK(changed["path"] == "/etc/content");
  CHECK(changed["change"] == "changed");
  CHECK(changed["aspects"] == nlohmann::json::array({"content"}));
  // sha256sum <<< aaaa, <<< bbbb
  CHECK(changed["a"]["sha256"] == "11a77c3d96c06974b53d7f40a577e6813739eb5c811b2a86f59038ea90add772");
  CHECK(changed["b"]["sha256"] == "4551db5fd4d56e27be71a8a943070cfaa4342b8e960a326e2d6427b3aa0a5a48");
  CHECK(j["entries"][1]["path"] == "/etc/new");
  CHECK(j["entries"][1]["change"] == "added");
  CHECK(j["entries"][1]["b"]["mode"] == "0600");
  CHECK(j["entries"][2]["change"] == "removed");
  CHECK(j["entries"][2]["a"]["target"] == "x");
  CHECK(j["summary"]["added"] == 1);
  CHECK(j["summary"]["removed"] == 1);
  CHECK(j["summary"]["changed"] == 1);
  CHECK(j["summary"]["aspects"]["content"] == 1);
}

TEST_CASE("an empty JSON report is still a valid document", "[diff]") {
  diff::JsonReport json;
  diff::Summary none;
  auto j = nlohmann::json::parse(json.begin() + json.end(none));
  CHECK(j["entries"].empty());
  CHECK(j["schema"] == 1);
}
