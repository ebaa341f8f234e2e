// The authorization server's named parts, without sockets: the key store (rotation with
// overlap, retirement), the clients' credentials, the revocation list, the bounded audit log and
// the refresh-token families (RFC 6749 §6 rotation, reuse revokes the family: OAuth 2.0
// Security BCP §4.14).
#include <gtest/gtest.h>

#include "actors/as_stores.h"
#include "sim/jose/jwt_verifier.h"

using namespace txlab;
using Json = nlohmann::json;

namespace {

std::optional<std::vector<std::string>> scope(std::vector<std::string> s) { return s; }

}  // namespace

TEST(KeyStoreTest, RotationPublishesNewestFirstAndRetirementKeepsOnlyIt) {
  KeyStore ks(jose::Key::generate(jose::Alg::kES256), "ES256");
  const std::string first = ks.signing_key().kid();
  ks.rotate();
  ASSERT_EQ(ks.keys().size(), 2u);
  EXPECT_NE(ks.signing_key().kid(), first);
  EXPECT_EQ(ks.keys()[1].kid(), first);  // the overlap: the old key still published
  ks.retire_old();
  ASSERT_EQ(ks.keys().size(), 1u);
  EXPECT_NE(ks.keys()[0].kid(), first);
  const auto header = jose::decode_unverified(ks.sign(Json{{"sub", "x"}}, "at+jwt"))->first;
  EXPECT_EQ(header["kid"], ks.signing_key().kid());
  EXPECT_EQ(header["typ"], "at+jwt");
  EXPECT_FALSE(jose::decode_unverified(ks.sign(Json{{"sub", "x"}}, ""))->first.contains("typ"));
}

TEST(ClientRegistryTest, RotatedSecretReplacesTheOldAndDisabledClientsAreKnown) {
  ClientRegistration c;
  c.id = "svc";
  c.secret = "s1";
  ClientRegistry reg({c});
  EXPECT_EQ(reg.secret("svc"), "s1");
  EXPECT_EQ(reg.secret("nobody"), "");
  const auto rotated = reg.rotate_secret("svc");
  ASSERT_TRUE(rotated);
  EXPECT_NE(*rotated, "s1");
  EXPECT_EQ(reg.secret("svc"), *rotated);
  EXPECT_FALSE(reg.rotate_secret("nobody"));
  EXPECT_TRUE(reg.enabled("svc"));
  EXPECT_TRUE(reg.set_enabled("svc", false));
  EXPECT_FALSE(reg.enabled("svc"));
  EXPECT_TRUE(reg.set_enabled("svc", true));
  EXPECT_TRUE(reg.enabled("svc"));
  EXPECT_FALSE(reg.set_enabled("nobody", false));
}

TEST(RevocationListTest, RevokeAllCountsOnlyNewlyRevoked) {
  RevocationList r;
  EXPECT_TRUE(r.revoke("a"));
  EXPECT_FALSE(r.revoke("a"));
  EXPECT_EQ(r.revoke_all({"a", "b", "c", "b"}), 2u);
  EXPECT_TRUE(r.is_revoked("c"));
  EXPECT_FALSE(r.is_revoked("d"));
}

TEST(AuditLogTest, BoundedKeepsTheNewestCountsDropsAndIssuedByGrant) {
  AuditLog log(3);
  for (int i = 0; i < 5; ++i)
    log.record({"as",
                "",
                i % 2 ? "client_credentials" : "token-exchange",
                i < 2 ? "a" : "b",
                "",
                "jti" + std::to_string(i),
                {},
                i});
  ASSERT_EQ(log.entries().size(), 3u);
  EXPECT_EQ(log.entries().front().issued_jti, "jti2");
  EXPECT_EQ(log.dropped(), 2u);
  EXPECT_EQ(log.issued_count("token-exchange"), 3u);  // dropped entries still counted
  EXPECT_EQ(log.issued_count("client_credentials"), 2u);
  EXPECT_EQ(log.issued_jtis("b"), (std::vector<std::string>{"jti2", "jti3", "jti4"}));
  EXPECT_EQ(log.issued_jtis("").size(), 3u);
}

TEST(RefreshStoreTest, Rfc6749Section6RotationReuseRevokesTheFamily) {
  RefreshStore store;
  const Json claims = {{"sub", "alice"}, {"scope", "a b"}, {"jti", "j0"}, {"exp", 5}, {"iat", 1}};
  const std::string rt = store.start("svc", claims, 60, /*expires_at_s=*/1000, /*now_s=*/0);
  std::vector<std::string> revoke;
  auto first = store.redeem(rt, "svc", std::nullopt, "j1", 10, &revoke);
  ASSERT_TRUE(std::holds_alternative<RefreshStore::Redeemed>(first));
  const auto& r = std::get<RefreshStore::Redeemed>(first);
  EXPECT_FALSE(r.claims.contains("exp"));  // re-issued claims carry no times or id
  EXPECT_FALSE(r.claims.contains("jti"));
  EXPECT_EQ(r.claims["sub"], "alice");
  EXPECT_NE(r.refresh_token, rt);
  // The rotated-away token again: theft; the family's access tokens are handed back to revoke.
  auto reuse = store.redeem(rt, "svc", std::nullopt, "j2", 11, &revoke);
  ASSERT_TRUE(std::holds_alternative<oauth::Refusal>(reuse));
  EXPECT_EQ(std::get<oauth::Refusal>(reuse).status, oauth::Status::kRefreshTokenReused);
  EXPECT_EQ(revoke, (std::vector<std::string>{"j0", "j1"}));
  // ... and the family's current token is dead too.
  auto after = store.redeem(r.refresh_token, "svc", std::nullopt, "j3", 12, &revoke);
  EXPECT_EQ(std::get<oauth::Refusal>(after).status, oauth::Status::kRefreshFamilyRevoked);
}

TEST(RefreshStoreTest, RefusalsLeaveTheCurrentTokenUsable) {
  RefreshStore store;
  const std::string rt = store.start("svc", {{"scope", "a b"}, {"jti", "j0"}}, 60, 100, 0);
  std::vector<std::string> revoke;
  auto status = [&](const oauth::Result<RefreshStore::Redeemed>& r) {
    return std::holds_alternative<oauth::Refusal>(r) ? std::get<oauth::Refusal>(r).status
                                                     : oauth::Status::kNoSuchClient;
  };
  EXPECT_EQ(status(store.redeem("rt.unknown", "svc", std::nullopt, "j", 1, &revoke)),
            oauth::Status::kRefreshTokenUnknown);
  EXPECT_EQ(status(store.redeem(rt, "other", std::nullopt, "j", 1, &revoke)),
            oauth::Status::kRefreshTokenOfOtherClient);
  // RFC 6749 §6: a narrower scope is fine, a wider one is invalid_scope and rotates nothing.
  EXPECT_EQ(status(store.redeem(rt, "svc", scope({"a", "c"}), "j", 1, &revoke)),
            oauth::Status::kRefreshScopeExceeds);
  auto narrowed = store.redeem(rt, "svc", scope({"a"}), "j1", 2, &revoke);
  ASSERT_TRUE(std::holds_alternative<RefreshStore::Redeemed>(narrowed));
  EXPECT_EQ(std::get<RefreshStore::Redeemed>(narrowed).claims["scope"], "a");
  EXPECT_TRUE(revoke.empty());
  const std::string next = std::get<RefreshStore::Redeemed>(narrowed).refresh_token;
  EXPECT_EQ(status(store.redeem(next, "svc", std::nullopt, "j2", 100, &revoke)),
            oauth::Status::kRefreshTokenExpired);
}
