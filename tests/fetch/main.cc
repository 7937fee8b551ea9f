// The Catch2 main of the fetch.* test programs: exit 77 (CTest: skipped)
// when nginx cannot run here, saying why (nginx.sh check); and no proxy
// from the environment, so no request leaves 127.0.0.1.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdlib>

#include "test_support.h"

int main(int argc, char** argv) {
  for (const char* name : {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                           "ALL_PROXY"}) {
    ::unsetenv(name);
  }
  Catch::Session session;
  if (int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  const auto& config = session.configData();
  const bool listing = config.listTests || config.listTestNamesOnly || config.listTags ||
                       config.listReporters || config.showHelp;
  if (!listing) {
    auto check = imgroot::test::run(std::string(IMGROOT_NGINX_SH) + " check");
    if (check.status != 0) {
      std::fputs(check.output.c_str(), stderr);
      return check.status == 77 ? 77 : 1;
    }
  }
  return session.run();
}
