#include "exporter/http/basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <memory>
#include <utility>
#include <vector>

namespace anomaly::http {
namespace {

// A bcrypt hash of a password nobody knows (exporter-toolkit uses the same idea, with its own hash): an
// unknown user is checked against it so that the answer takes as long as for a known user.
constexpr const char* kDecoyHash = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with optional '=' padding; false on any other character.
bool DecodeBase64(std::string_view in, std::string& out) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = Base64Value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return bits < 6;  // a lone trailing character holds no whole byte
}

}  // namespace

bool ParseBasicAuthorization(std::string_view authorization, std::string& user, std::string& password) {
  while (!authorization.empty() && authorization.front() == ' ') authorization.remove_prefix(1);
  const size_t space = authorization.find(' ');
  if (space == std::string_view::npos) return false;
  std::string_view scheme = authorization.substr(0, space);
  // The scheme is case-insensitive (RFC 7617 section 2).
  if (scheme.size() != 5) return false;
  for (size_t i = 0; i < 5; ++i) {
    if ((scheme[i] | 0x20) != "basic"[i]) return false;
  }
  std::string_view token = authorization.substr(space + 1);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  std::string decoded;
  if (token.empty() || !DecodeBase64(token, decoded)) return false;
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  user = decoded.substr(0, colon);
  password = decoded.substr(colon + 1);
  return true;
}

bool VerifyBcrypt(const std::string& password, const std::string& hash) {
  // crypt_r reads a C string: a password with a NUL byte would be checked only up to it, so
  // "right\0junk" would pass (found by review of the fuzz target). Such a password is never right.
  if (password.find('\0') != std::string::npos) return false;
  // crypt_data is large (tens of KiB): on the heap, one per call, so concurrent checks share nothing.
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_r(password.c_str(), hash.c_str(), data.get());
  // libxcrypt returns a "*0"/"*1" failure token (or NULL) for an unusable setting.
  if (out == nullptr || out[0] == '*') return false;
  const std::string_view computed(out);
  if (computed.size() != hash.size()) return false;
  return CRYPTO_memcmp(computed.data(), hash.data(), hash.size()) == 0;
}

BasicAuthenticator::BasicAuthenticator(std::map<std::string, std::string> users, Clock clock)
    : users_(std::move(users)),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })) {}

bool BasicAuthenticator::Check(std::string_view authorization) const {
  std::string user;
  std::string password;
  if (!ParseBasicAuthorization(authorization, user, password)) return false;
  const auto it = users_.find(user);
  const bool known = it != users_.end();
  const std::string& hash = known ? it->second : std::string(kDecoyHash);

  // The key binds user, hash and password; each is length-prefixed so that no two triples collide.
  Key key{};
  {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> sha(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    bool hashed = sha && EVP_DigestInit_ex(sha.get(), EVP_sha256(), nullptr) == 1;
    for (const std::string* part : {&std::as_const(user), &hash, &std::as_const(password)}) {
      const uint64_t size = part->size();
      hashed = hashed && EVP_DigestUpdate(sha.get(), &size, sizeof size) == 1 &&
               EVP_DigestUpdate(sha.get(), part->data(), part->size()) == 1;
    }
    unsigned int length = 0;
    hashed = hashed && EVP_DigestFinal_ex(sha.get(), key.data(), &length) == 1 && length == key.size();
    if (!hashed) {  // out of memory: check without the cache
      bcrypt_checks_.fetch_add(1);
      return VerifyBcrypt(password, hash) && known;
    }
  }

  if (known && Cached(key)) return true;

  // Single flight: the first miss for these credentials runs bcrypt; the others wait for its answer.
  std::promise<bool> promise;
  {
    std::unique_lock<std::mutex> lock(mu_);
    const auto running = inflight_.find(key);
    if (running != inflight_.end()) {
      std::shared_future<bool> answer = running->second;
      lock.unlock();
      OPENSSL_cleanse(password.data(), password.size());
      return answer.get() && known;
    }
    // A check that finished between Cached() above and here has filled the cache.
    const auto hit = cache_.find(key);
    if (known && hit != cache_.end() && clock_() < hit->second) {
      OPENSSL_cleanse(password.data(), password.size());
      return true;
    }
    inflight_.emplace(key, promise.get_future().share());
  }
  bool ok = false;
  try {
    bcrypt_checks_.fetch_add(1);
    ok = VerifyBcrypt(password, hash) && known;
  } catch (...) {  // allocation failure: fail this check and the ones waiting, never leave them waiting
    ok = false;
  }
  OPENSSL_cleanse(password.data(), password.size());
  if (ok) Remember(key);
  {
    std::lock_guard<std::mutex> lock(mu_);
    inflight_.erase(key);
  }
  promise.set_value(ok);
  return ok;
}

bool BasicAuthenticator::Cached(const Key& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = cache_.find(key);
  if (it == cache_.end()) return false;
  if (clock_() < it->second) return true;
  cache_.erase(it);
  return false;
}

void BasicAuthenticator::Remember(const Key& key) const {
  const auto now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.size() >= kCacheCapacity && cache_.find(key) == cache_.end()) {
    // Full: drop the expired entries, and if none were, the one closest to expiry.
    std::erase_if(cache_, [now](const auto& entry) { return entry.second <= now; });
    if (cache_.size() >= kCacheCapacity) {
      auto oldest = cache_.begin();
      for (auto it = cache_.begin(); it != cache_.end(); ++it) {
        if (it->second < oldest->second) oldest = it;
      }
      cache_.erase(oldest);
    }
  }
  cache_[key] = now + kCacheTtl;
}

}  // namespace anomaly::http
