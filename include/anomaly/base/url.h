// Decoding of application/x-www-form-urlencoded text (query strings), shared by every handler that reads
// one (the score API's settings, the series page's selector).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace anomaly {

// %XX escapes and '+' for a space; nullopt on a '%' not followed by two hex digits (the caller names it).
std::optional<std::string> DecodeFormComponent(std::string_view text);

}  // namespace anomaly
