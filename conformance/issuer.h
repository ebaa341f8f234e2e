// Issuer keys for remote targets: loaded from a file (--issuer-key, JWK or PEM) or generated and
// served on loopback (--serve-issuer), so that the key-dependent cases (expired, not yet valid,
// wrong aud, unknown crit, issuer/key mix-up, may_act, nested act) run against any server that
// is configured to trust them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conformance/case.h"

namespace txlab::http {
class LoopbackServer;
}

namespace txlab::conformance {

// Reads a private key from `path`: a JWK (JSON object with "d"; its kid is kept) or PEM (kid: the
// RFC 7638 thumbprint). nullopt and *error when unreadable, public-only or unsupported.
std::optional<jose::Key> load_issuer_key(const std::string& path, std::string* error);

// Two issuers on 127.0.0.1:PORT, each with a fresh ES256 key (or a given one): the first at
// http://127.0.0.1:PORT, the second at http://127.0.0.1:PORT/second; each serves RFC 8414 and
// OpenID discovery and its JWKS (/jwks, /second/jwks).
class ServedIssuers {
 public:
  ServedIssuers();
  ~ServedIssuers();
  // Starts listening; throws std::runtime_error when the port cannot be bound. `first_key`
  // replaces the first issuer's generated key (its issuer name stays the URL unless `name` is set).
  void start(int port, std::optional<jose::Key> first_key = std::nullopt,
             const std::string& name = {});
  std::vector<IssuerKey> keys() const;
  std::string issuer(size_t i) const;
  std::string jwks_uri(size_t i) const;
  // Key rotation: issuer i gets a fresh key and its JWKS lists only that one from now on.
  std::shared_ptr<const jose::Key> rotate(size_t i);

 private:
  std::unique_ptr<http::LoopbackServer> server_;
  std::vector<IssuerKey> keys_;
  std::vector<std::string> jwks_;
  struct Published;  // the JWKS documents as served, replaced on rotation
  std::shared_ptr<Published> published_;
};

}  // namespace txlab::conformance
