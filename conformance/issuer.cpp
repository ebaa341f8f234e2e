// Issuer keys from files and issuers served on loopback.
#include "conformance/issuer.h"

#include <mutex>

#include <nlohmann/json.hpp>

#include "sim/http/server.h"

namespace txlab::conformance {

using Json = nlohmann::json;

std::optional<jose::Key> load_issuer_key(const std::string& path, std::string* error) {
  return jose::load_private_key_file(path, error);
}

struct ServedIssuers::Published {
  std::mutex mu;
  std::string jwks[2];
};

ServedIssuers::ServedIssuers()
    : server_(std::make_unique<http::LoopbackServer>()),
      published_(std::make_shared<Published>()) {}
ServedIssuers::~ServedIssuers() { server_->stop(); }

void ServedIssuers::start(int port, std::optional<jose::Key> first_key, const std::string& name) {
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  const std::string prefixes[] = {"", "/second"};
  for (size_t i = 0; i < 2; ++i) {
    jose::Key key = i == 0 && first_key ? *first_key : jose::Key::generate(jose::Alg::kES256);
    const std::string iss = i == 0 && !name.empty() ? name : base + prefixes[i];
    keys_.push_back({iss, std::make_shared<jose::Key>(key)});
    jwks_.push_back(base + prefixes[i] + "/jwks");
    published_->jwks[i] = Json{{"keys", Json::array({key.public_jwk()})}}.dump();
    const std::string meta =
        Json{{"issuer", iss},
             {"jwks_uri", base + prefixes[i] + "/jwks"},
             {"token_endpoint", base + prefixes[i] + "/token"},
             {"response_types_supported", Json::array()},
             {"subject_types_supported", {"public"}},
             {"id_token_signing_alg_values_supported", {std::string(jose::to_string(key.alg()))}}}
            .dump();
    auto serve = [](const std::string& body) {
      return [body](const http::Request&, http::Response& res) {
        res.set_header("Cache-Control", "no-cache");
        res.set_content(body, "application/json");
      };
    };
    server_->routes().get(prefixes[i] + "/jwks",
                          [published = published_, i](const http::Request&, http::Response& res) {
                            std::lock_guard lock(published->mu);
                            res.set_header("Cache-Control", "no-cache");
                            res.set_content(published->jwks[i], "application/json");
                          });
    server_->routes().get(prefixes[i] + "/.well-known/openid-configuration", serve(meta));
    server_->routes().get(prefixes[i] + "/.well-known/oauth-authorization-server", serve(meta));
    if (i == 1)
      server_->routes().get("/.well-known/oauth-authorization-server/second", serve(meta));
  }
  server_->start_on(port);
}

std::vector<IssuerKey> ServedIssuers::keys() const { return keys_; }
std::string ServedIssuers::issuer(size_t i) const { return keys_.at(i).issuer; }
std::string ServedIssuers::jwks_uri(size_t i) const { return jwks_.at(i); }

std::shared_ptr<const jose::Key> ServedIssuers::rotate(size_t i) {
  if (i >= keys_.size()) return nullptr;
  auto next = std::make_shared<jose::Key>(jose::Key::generate(keys_[i].key->alg()));
  std::lock_guard lock(published_->mu);
  published_->jwks[i] = Json{{"keys", Json::array({next->public_jwk()})}}.dump();
  return next;
}

}  // namespace txlab::conformance
