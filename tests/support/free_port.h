// A TCP port on 127.0.0.1 that was free a moment ago: bind port 0, read it
// back, close. Another process may take it before the caller binds it; callers
// that can should bind port 0 themselves.
#pragma once

namespace anomaly::testing {

// Aborts if no socket can be bound at all. Never returns 9090, 9093, 9094 or
// 9100 (the well-known Prometheus ports, so that a test cannot collide with a
// real service, ECOSYSTEM.md §6).
int FreePort();

}  // namespace anomaly::testing
