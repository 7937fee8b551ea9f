// The boot trial's variables in grubenv, as the CLI reads and writes them.
#include <catch2/catch.hpp>

#include "grub/trial.h"

using namespace imgroot::grub;

TEST_CASE("no imgroot variables means no trial", "[trial]") {
  Trial t = read_trial(Env{});
  CHECK(t.phase == Phase::kNone);
  CHECK(describe_trial(t) == "none");
}

TEST_CASE("starting a trial sets the phase and the tries as GRUB compares them", "[trial]") {
  Env env;
  REQUIRE(start_trial(env, 3));
  CHECK(env.get(kTrialVar) == "counting");
  CHECK(env.get(kTriesVar) == "3");
  Trial t = read_trial(env);
  CHECK(t.phase == Phase::kCounting);
  CHECK(t.tries_left == 3);
  CHECK(describe_trial(t) == "on trial, 3 boots left before it is given up");
}

TEST_CASE("a trial has 1 to 9 tries", "[trial]") {
  Env env;
  CHECK_FALSE(start_trial(env, 0));
  CHECK_FALSE(start_trial(env, 10));
  CHECK(start_trial(env, 1));
  CHECK(start_trial(env, 9));
}

TEST_CASE("ending a trial removes both variables and leaves the others", "[trial]") {
  Env env;
  env.set("saved_entry", "x");
  REQUIRE(start_trial(env, 2));
  end_trial(env);
  CHECK(env.vars().size() == 1);
  CHECK(read_trial(env).phase == Phase::kNone);
}

TEST_CASE("mark-bad uses up the tries of a counting trial only", "[trial]") {
  Env env;
  REQUIRE(start_trial(env, 3));
  exhaust_trial(env);
  CHECK(read_trial(env).tries_left == 0);
  Env none;
  exhaust_trial(none);
  CHECK(none.vars().empty());
  Env reverting;
  reverting.set(kTrialVar, "reverting");
  exhaust_trial(reverting);
  CHECK_FALSE(reverting.get(kTriesVar));
}

TEST_CASE("a counter GRUB cannot count down reads as unreadable", "[trial]") {
  for (const char* bad : {"", "10", "-1", "x", "3 "}) {
    Env env;
    env.set(kTrialVar, "counting");
    env.set(kTriesVar, bad);
    Trial t = read_trial(env);
    CHECK(t.phase == Phase::kCounting);
    CHECK_FALSE(t.tries_left);
  }
}

TEST_CASE("an unknown phase is a counting trial, as GRUB treats it", "[trial]") {
  Env env;
  env.set(kTrialVar, "someday");
  env.set(kTriesVar, "1");
  Trial t = read_trial(env);
  CHECK(t.phase == Phase::kCounting);
  CHECK(t.unknown_phase);
  CHECK(t.tries_left == 1);
}

TEST_CASE("the phases GRUB moves to read back as such", "[trial]") {
  Env env;
  env.set(kTrialVar, "reverting");
  CHECK(read_trial(env).phase == Phase::kReverting);
  env.set(kTrialVar, "discarding");
  CHECK(read_trial(env).phase == Phase::kDiscarding);
}
