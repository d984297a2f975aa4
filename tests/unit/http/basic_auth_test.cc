#include "exporter/http/basic_auth.h"

#include <crypt.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace anomaly::http {
namespace {

using std::chrono::seconds;

// bcrypt at the lowest cost, made by libcrypt like `htpasswd -nBC 4`.
std::string Hash(const std::string& password, const char* prefix = "$2b$") {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  EXPECT_NE(crypt_gensalt_rn(prefix, 4, nullptr, 0, salt, sizeof salt), nullptr);
  crypt_data data{};
  return crypt_r(password.c_str(), salt, &data);
}

// "Basic base64(user:password)", encoded here independently of the code under test.
std::string Basic(const std::string& credentials) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < credentials.size(); i += 3) {
    const uint32_t n =
        (uint8_t(credentials[i]) << 16) | (uint8_t(credentials[i + 1]) << 8) | uint8_t(credentials[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (credentials.size() - i == 1) {
    const uint32_t n = uint8_t(credentials[i]) << 16;
    out += std::string{kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63]} + "==";
  } else if (credentials.size() - i == 2) {
    const uint32_t n = (uint8_t(credentials[i]) << 16) | (uint8_t(credentials[i + 1]) << 8);
    out += std::string{kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63]} + "=";
  }
  return "Basic " + out;
}

// A clock the test moves by hand.
struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  BasicAuthenticator::Clock Fn() {
    return [this] { return now; };
  }
};

TEST(BasicAuthTest, ParsesBasicAuthorization) {
  std::string user;
  std::string password;
  ASSERT_TRUE(ParseBasicAuthorization(Basic("alice:pa:ss word"), user, password));
  EXPECT_EQ(user, "alice");
  EXPECT_EQ(password, "pa:ss word");  // only the first ':' separates
  ASSERT_TRUE(ParseBasicAuthorization("bAsIc " + Basic("bob:").substr(6), user, password));
  EXPECT_EQ(user, "bob");
  EXPECT_EQ(password, "");
  for (const std::string& bad :
       {std::string(), std::string("Basic"), std::string("Basic "), std::string("Bearer abc"),
        std::string("Basic !!!!"), Basic("no-colon"), std::string("Basic YQ")}) {
    EXPECT_FALSE(ParseBasicAuthorization(bad, user, password)) << bad;
  }
}

TEST(BasicAuthTest, VerifiesEveryBcryptPrefix) {
  for (const char* prefix : {"$2a$", "$2b$", "$2y$"}) {
    const std::string hash = Hash("right", prefix);
    ASSERT_EQ(hash.substr(0, 4), prefix);
    EXPECT_TRUE(VerifyBcrypt("right", hash)) << prefix;
    EXPECT_FALSE(VerifyBcrypt("wrong", hash)) << prefix;
    EXPECT_FALSE(VerifyBcrypt("righ", hash)) << prefix;
  }
  EXPECT_FALSE(VerifyBcrypt("right", "not a hash"));
  EXPECT_FALSE(VerifyBcrypt("right", ""));
}

TEST(BasicAuthTest, AcceptsTheRightPasswordOnlyForKnownUsers) {
  BasicAuthenticator auth({{"alice", Hash("secret")}, {"bob", Hash("other")}});
  EXPECT_TRUE(auth.Check(Basic("alice:secret")));
  EXPECT_TRUE(auth.Check(Basic("bob:other")));
  EXPECT_FALSE(auth.Check(Basic("alice:other")));
  EXPECT_FALSE(auth.Check(Basic("alice:secret ")));
  EXPECT_FALSE(auth.Check(Basic("carol:secret")));
  EXPECT_FALSE(auth.Check(Basic("Alice:secret")));  // user names are case-sensitive
  EXPECT_FALSE(auth.Check(""));
  EXPECT_FALSE(auth.Check("Bearer secret"));
}

TEST(BasicAuthTest, APasswordWithANulByteIsNeverRight) {
  BasicAuthenticator auth({{"alice", Hash("secret")}});
  EXPECT_TRUE(auth.Check(Basic("alice:secret")));
  EXPECT_FALSE(auth.Check(Basic(std::string("alice:secret\0junk", 17))));
  EXPECT_FALSE(VerifyBcrypt(std::string("secret\0", 7), Hash("secret")));
}

TEST(BasicAuthTest, CachesSuccessfulChecksOnly) {
  FakeClock clock;
  BasicAuthenticator auth({{"alice", Hash("secret")}}, clock.Fn());
  EXPECT_TRUE(auth.Check(Basic("alice:secret")));
  EXPECT_EQ(auth.bcrypt_checks(), 1u);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(auth.Check(Basic("alice:secret")));
  EXPECT_EQ(auth.bcrypt_checks(), 1u) << "a cached success must not pay bcrypt again";
  // A wrong password is never cached: each attempt pays a bcrypt check.
  EXPECT_FALSE(auth.Check(Basic("alice:wrong")));
  EXPECT_FALSE(auth.Check(Basic("alice:wrong")));
  EXPECT_EQ(auth.bcrypt_checks(), 3u);
}

TEST(BasicAuthTest, UnknownUserStillPaysABcryptCheck) {
  BasicAuthenticator auth({{"alice", Hash("secret")}});
  EXPECT_FALSE(auth.Check(Basic("mallory:secret")));
  EXPECT_FALSE(auth.Check(Basic("mallory:secret")));
  EXPECT_EQ(auth.bcrypt_checks(), 2u);
}

TEST(BasicAuthTest, CachedSuccessExpires) {
  FakeClock clock;
  BasicAuthenticator auth({{"alice", Hash("secret")}}, clock.Fn());
  EXPECT_TRUE(auth.Check(Basic("alice:secret")));
  clock.now += BasicAuthenticator::kCacheTtl - seconds(1);
  EXPECT_TRUE(auth.Check(Basic("alice:secret")));
  EXPECT_EQ(auth.bcrypt_checks(), 1u);
  clock.now += seconds(1);
  EXPECT_TRUE(auth.Check(Basic("alice:secret")));
  EXPECT_EQ(auth.bcrypt_checks(), 2u) << "an expired entry is checked again";
}

TEST(BasicAuthTest, CacheIsBounded) {
  FakeClock clock;
  std::map<std::string, std::string> users;
  const std::string hash = Hash("pw");
  const size_t n = BasicAuthenticator::kCacheCapacity + 1;
  for (size_t i = 0; i < n; ++i) users["u" + std::to_string(i)] = hash;
  BasicAuthenticator auth(users, clock.Fn());
  for (size_t i = 0; i < n; ++i) {
    clock.now += seconds(0) + std::chrono::milliseconds(1);  // distinct expiries: u0 is the oldest
    EXPECT_TRUE(auth.Check(Basic("u" + std::to_string(i) + ":pw")));
  }
  EXPECT_EQ(auth.bcrypt_checks(), n);
  // u0 was evicted to make room for the last one; the rest are still cached.
  EXPECT_TRUE(auth.Check(Basic("u" + std::to_string(n - 1) + ":pw")));
  EXPECT_EQ(auth.bcrypt_checks(), n);
  EXPECT_TRUE(auth.Check(Basic("u0:pw")));
  EXPECT_EQ(auth.bcrypt_checks(), n + 1);
}

TEST(BasicAuthTest, ConcurrentChecksAgree) {
  BasicAuthenticator auth({{"alice", Hash("secret")}});
  std::atomic<int> wrong_answers = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&auth, &wrong_answers, t] {
      for (int i = 0; i < 20; ++i) {
        const bool good = (i + t) % 2 == 0;
        if (auth.Check(Basic(good ? "alice:secret" : "alice:nope")) != good) ++wrong_answers;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong_answers.load(), 0);
}

// A burst of requests with the same credentials on a cold (or just expired) cache pays one bcrypt check,
// not one per request: without the single flight, 16 workers would each run bcrypt at once.
TEST(BasicAuthTest, ConcurrentMissesShareOneBcryptCheck) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  ASSERT_NE(crypt_gensalt_rn("$2b$", 12, nullptr, 0, salt, sizeof salt), nullptr);  // slow enough to overlap
  crypt_data data{};
  BasicAuthenticator auth({{"alice", crypt_r("secret", salt, &data)}});
  std::atomic<int> accepted = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&auth, &accepted] {
      if (auth.Check(Basic("alice:secret"))) ++accepted;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 16);
  // Threads that start after the first check finished hit the cache; none runs a second bcrypt.
  EXPECT_EQ(auth.bcrypt_checks(), 1u);
  // Wrong passwords in a burst share one failing check too, and a failure is still not cached.
  threads.clear();
  std::atomic<int> refused = 0;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&auth, &refused] {
      if (!auth.Check(Basic("alice:nope"))) ++refused;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(refused.load(), 8);
  EXPECT_GE(auth.bcrypt_checks(), 2u);
  EXPECT_LE(auth.bcrypt_checks(), 9u);
}

}  // namespace
}  // namespace anomaly::http
