// Built into the sanitized executables only (IMGROOT_SANITIZE, IMGROOT_FUZZ:
// the imgroot_sanitize target in CMakeLists.txt), never into a release.
//
// libparted runs `dmidecode -s system-manufacturer` when it is loaded and
// reads the line with getline(); ASan then reports strchr() on that line as
// reading one byte past the buffer glibc allocated, before main() and in
// every program that links libparted. Not imgroot's code: reports from
// interceptors called by libparted are suppressed.
extern "C" const char* __asan_default_suppressions() { return "interceptor_via_lib:libparted.so\n"; }
