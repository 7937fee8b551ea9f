// grubenv: fixtures written by grub-editenv, round trips, and random bytes.
#include <catch2/catch.hpp>
#include <random>

#include "grub/env.h"
#include "grub/esp.h"
#include "stage_support.h"

using namespace imgroot;
using namespace imgroot::grub;
using namespace imgroot::test;

namespace {

std::string fixture(const std::string& name) {
  return read_text(std::string(IMGROOT_FIXTURES) + "/grubenv/" + name);
}

}  // namespace

TEST_CASE("an empty block from grub-editenv has no variables", "[grubenv]") {
  auto env = parse_env(fixture("empty.env"));
  REQUIRE(env);
  CHECK(env->vars().empty());
}

TEST_CASE("variables set by grub-editenv are read in order", "[grubenv]") {
  auto env = parse_env(fixture("trial.env"));
  REQUIRE(env);
  REQUIRE(env->vars().size() == 3);
  CHECK(env->vars()[0].first == "saved_entry");
  CHECK(env->get("saved_entry") == "gnulinux-advanced");
  CHECK(env->get("imgroot_trial") == "counting");
  CHECK(env->get("imgroot_tries") == "2");
  CHECK_FALSE(env->get("missing"));
}

TEST_CASE("a backslash and a newline in a value are unescaped", "[grubenv]") {
  auto env = parse_env(fixture("escaped.env"));
  REQUIRE(env);
  CHECK(env->get("note") == "a\\b");
  CHECK(env->get("two") == "line1\nline2");
}

TEST_CASE("a formatted block is 1024 bytes, padded with '#', and reads back the same",
          "[grubenv]") {
  Env env;
  env.set("saved_entry", "0");
  env.set("note", "a\\b\nc");
  env.set("empty", "");
  auto block = format_env(env);
  REQUIRE(block);
  CHECK(block->size() == kEnvBlockSize);
  CHECK(block->starts_with(kEnvSignature));
  CHECK(block->back() == '#');
  auto back = parse_env(*block);
  REQUIRE(back);
  CHECK(*back == env);
}

TEST_CASE("a block imgroot writes is what grub-editenv writes for the same variables",
          "[grubenv]") {
  auto env = parse_env(fixture("escaped.env"));
  REQUIRE(env);
  auto again = parse_env(format_env(*env).value());
  REQUIRE(again);
  CHECK(*again == *env);
  if (run("command -v grub-editenv").status != 0) {
    WARN("skipped the grub-editenv half: grub-editenv is not installed (grub-common)");
    return;
  }
  TempDir dir;
  write_text(dir / "grubenv", format_env(*env).value());
  auto listed = run("grub-editenv " + shell_quote(dir / "grubenv") + " list");
  CHECK(listed.status == 0);
  CHECK(listed.output == "note=a\\b\ntwo=line1\nline2\n");
}

TEST_CASE("setting a variable replaces it in place and erasing removes it", "[grubenv]") {
  Env env;
  env.set("a", "1");
  env.set("b", "2");
  env.set("a", "3");
  REQUIRE(env.vars().size() == 2);
  CHECK(env.vars()[0] == std::pair<std::string, std::string>("a", "3"));
  env.erase("a");
  CHECK(env.vars().size() == 1);
  CHECK_FALSE(env.get("a"));
}

TEST_CASE("variables that do not fit the block, or bad names, are refused", "[grubenv]") {
  Env big;
  big.set("x", std::string(1100, 'v'));
  auto too_big = format_env(big);
  REQUIRE_FALSE(too_big);
  CHECK(too_big.error().message.find("more than the block's 1024") != std::string::npos);
  for (const char* name : {"", "a=b", "#c", "d\ne"}) {
    Env bad;
    bad.set(name, "1");
    CHECK_FALSE(format_env(bad));
  }
}

TEST_CASE("a block without the signature or with a cut-off value is an error", "[grubenv]") {
  CHECK_FALSE(parse_env(""));
  CHECK_FALSE(parse_env("saved_entry=1\n"));
  CHECK_FALSE(parse_env(std::string(kEnvSignature) + "a=1"));
  CHECK_FALSE(parse_env(std::string(kEnvSignature) + "a=1\\"));
  CHECK_FALSE(parse_env(std::string(kEnvSignature) + "novalue\n"));
  CHECK(parse_env(std::string(kEnvSignature) + "a=1\n###").value().get("a") == "1");
}

TEST_CASE("random bytes never crash the parser, and what parses formats again", "[grubenv][fuzz]") {
  std::mt19937 rng(20261121);
  const std::string alphabet = "ab=#\\\n\0x";
  for (int round = 0; round < 20000; ++round) {
    std::string block = round % 2 ? std::string(kEnvSignature) : "";
    const std::size_t n = rng() % 64;
    for (std::size_t i = 0; i < n; ++i)
      block += round % 3 ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng() % 256);
    auto env = parse_env(block);
    if (!env) continue;
    auto formatted = format_env(*env);
    if (!formatted) continue;  // names GRUB could never have written
    CHECK(parse_env(*formatted).value() == *env);
  }
}

TEST_CASE("grubenv on EFI-BOOT: created when missing, rewritten in place at its size", "[grubenv]") {
  TempDir dir;
  REQUIRE(::mkdir((dir / "grub").c_str(), 0755) == 0);
  auto esp = open_esp(dir.path());
  REQUIRE(esp);
  CHECK(load_grubenv(*esp).value().vars().empty());
  CHECK(ensure_grubenv(*esp).value());
  CHECK_FALSE(ensure_grubenv(*esp).value());
  CHECK(read_text(dir / "grub/grubenv") == format_env(Env{}).value());

  struct stat before {};
  REQUIRE(::stat((dir / "grub/grubenv").c_str(), &before) == 0);
  Env env;
  env.set("imgroot_tries", "3");
  REQUIRE(save_grubenv(*esp, env));
  struct stat after {};
  REQUIRE(::stat((dir / "grub/grubenv").c_str(), &after) == 0);
  CHECK(after.st_ino == before.st_ino);  // the same file: GRUB's blocks stay valid
  CHECK(after.st_size == 1024);
  CHECK(load_grubenv(*esp).value() == env);
}

TEST_CASE("an EFI-BOOT without grub/ or with a damaged grubenv is an error naming it", "[grubenv]") {
  TempDir dir;
  auto missing = open_esp(dir.path());
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("EFI-BOOT partition '" + dir.path() + "'") == 0);
  REQUIRE(::mkdir((dir / "grub").c_str(), 0755) == 0);
  write_text(dir / "grub/grubenv", "garbage");
  auto damaged = load_grubenv(open_esp(dir.path()).value());
  REQUIRE_FALSE(damaged);
  CHECK(damaged.error().message.find("grub/grubenv") != std::string::npos);
}
