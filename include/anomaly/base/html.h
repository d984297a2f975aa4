// HTML escaping shared by every page the project renders (the landing page, the backtest report).
#pragma once

#include <string>
#include <string_view>

namespace anomaly {

// Escapes & < > " ' as entities, so any text is safe inside an element or a quoted attribute.
std::string EscapeHtml(std::string_view text);

}  // namespace anomaly
