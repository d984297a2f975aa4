// Basic auth for the web server (web config `basic_auth_users`): checks an Authorization header against
// bcrypt hashes the way exporter-toolkit does (web/handler.go), so one web config protects node_exporter
// and this exporter alike.
//  - bcrypt is verified by libcrypt's crypt_r (Debian's libxcrypt handles $2a$, $2b$ and $2y$) and the
//    result compared in constant time (CRYPTO_memcmp).
//  - A bcrypt check costs milliseconds to tens of milliseconds by design, so successful checks are cached:
//    keyed by SHA-256 of user, stored hash and password (the password itself is never kept), at most
//    kCacheCapacity entries, each for kCacheTtl. Failures are not cached, so a wrong password always pays.
//  - Concurrent checks of the same credentials that miss the cache share one bcrypt check (single
//    flight): when an entry expires, or when a client opens many connections at once, a burst of requests
//    would otherwise each pay bcrypt together and stall every worker (seen as seconds of p99 latency
//    under bench/load_bench.sh with basic auth).
//  - An unknown user still costs one bcrypt check against a fixed hash, so timing does not reveal which
//    user names exist.
// Thread-safe: Check runs concurrently on civetweb workers; the cache is guarded by a mutex, and bcrypt
// runs outside it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace anomaly::http {

class BasicAuthenticator {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  static constexpr size_t kCacheCapacity = 100;
  static constexpr std::chrono::seconds kCacheTtl{60};

  // `users`: user name -> bcrypt hash, as validated by the web config loader. `clock` (tests) defaults to
  // std::chrono::steady_clock::now.
  explicit BasicAuthenticator(std::map<std::string, std::string> users, Clock clock = {});
  BasicAuthenticator(const BasicAuthenticator&) = delete;
  BasicAuthenticator& operator=(const BasicAuthenticator&) = delete;

  // True when `authorization` (the whole header value, "Basic base64(user:password)") names a known user
  // with the right password. Blocks for one bcrypt check unless the credentials are cached.
  bool Check(std::string_view authorization) const;

  const std::map<std::string, std::string>& users() const { return users_; }
  // bcrypt checks run so far (cache misses, unknown users included): for tests and for the docs' claim
  // that scrapes do not pay bcrypt each time.
  uint64_t bcrypt_checks() const { return bcrypt_checks_.load(); }

 private:
  using Key = std::array<unsigned char, 32>;  // SHA-256
  bool Cached(const Key& key) const;
  void Remember(const Key& key) const;

  const std::map<std::string, std::string> users_;  // constant after construction
  const Clock clock_;                               // constant after construction
  mutable std::atomic<uint64_t> bcrypt_checks_{0};
  mutable std::mutex mu_;
  mutable std::map<Key, std::chrono::steady_clock::time_point> cache_;  // guarded by mu_; key -> expiry
  mutable std::map<Key, std::shared_future<bool>> inflight_;             // guarded by mu_; checks running
};

// "Basic dXNlcjpwYXNz" -> {"user", "pass"}; false for anything else (other schemes, bad base64, no ':').
bool ParseBasicAuthorization(std::string_view authorization, std::string& user, std::string& password);

// True when `password` matches the bcrypt `hash` (crypt_r, compared in constant time). Blocks for the
// hash's cost.
bool VerifyBcrypt(const std::string& password, const std::string& hash);

}  // namespace anomaly::http
