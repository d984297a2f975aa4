// FUZZ_CHECK(cond, what): an invariant a fuzz target asserts about the code under test. Unlike assert()
// it stays on in release builds (RelWithDebInfo defines NDEBUG); a failure prints the condition and
// `what` (bytes outside printable ASCII and newline as \xNN), then aborts, which libFuzzer records as
// a crash with the input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace anomaly::fuzz {

inline std::string Printable(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 0x20 && c < 0x7f) || c == '\n') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

}  // namespace anomaly::fuzz

#define FUZZ_CHECK(cond, what)                                                                      \
  do {                                                                                              \
    if (!(cond)) {                                                                                  \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: %s\n", __FILE__, __LINE__, #cond,         \
                   anomaly::fuzz::Printable(what).c_str());                                         \
      std::abort();                                                                                 \
    }                                                                                               \
  } while (false)
