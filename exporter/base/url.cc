#include "anomaly/base/url.h"

#include <utility>

namespace anomaly {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> DecodeFormComponent(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] != '%') {
      out += s[i];
    } else if (i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

Result<std::vector<FormField>> DecodeForm(std::string_view text) {
  std::vector<FormField> fields;
  while (!text.empty()) {
    const size_t amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    FormField field;
    field.has_value = eq != std::string_view::npos;
    for (auto [part, out] : {std::pair{pair.substr(0, eq), &field.name},
                             std::pair{field.has_value ? pair.substr(eq + 1) : std::string_view(), &field.value}}) {
      std::optional<std::string> decoded = DecodeFormComponent(part);
      if (!decoded) return MakeError(ErrorCode::kInvalidInput, "bad percent-escape in \"" + std::string(part) + "\"");
      *out = std::move(*decoded);
    }
    fields.push_back(std::move(field));
  }
  return fields;
}

}  // namespace anomaly
