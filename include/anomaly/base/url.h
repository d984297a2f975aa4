// Decoding of application/x-www-form-urlencoded text (query strings, form bodies), shared by every handler
// that reads one (the score API's settings, the series page's selector, the series page's feedback form).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anomaly/base/result.h"

namespace anomaly {

// %XX escapes and '+' for a space; nullopt on a '%' not followed by two hex digits (the caller names it).
std::optional<std::string> DecodeFormComponent(std::string_view text);

// One NAME=VALUE pair of a form-encoded text, both decoded.
struct FormField {
  std::string name;
  std::string value;
  bool has_value = false;  // the pair had a '=' (a bare "NAME" has none, and an empty value)
};

// The pairs of `text` ("a=1&b=x+y", a query string or a form body) in order, decoded; empty pairs ("a=1&&")
// are skipped. kInvalidInput `bad percent-escape in "PART"` naming the undecodable name or value.
[[nodiscard]] Result<std::vector<FormField>> DecodeForm(std::string_view text);

}  // namespace anomaly
