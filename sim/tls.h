// TLS for roles that must be reached over https (peers such as Apache mod_auth_openidc only
// fetch JWKS over https): a per-run certificate authority and a server certificate for
// 127.0.0.1 / localhost (OpenSSL 3, EC P-256), and a TLS front (Boost.Asio) that terminates
// TLS on its own loopback port and forwards the plaintext to a role's port.
#pragma once

#include <memory>
#include <string>

namespace txlab {

struct TlsMaterial {
  std::string ca_cert_path;      // PEM: trust this to verify the servers
  std::string server_cert_path;  // PEM: leaf (SAN IP:127.0.0.1, DNS:localhost), signed by the CA
  std::string server_key_path;   // PEM: the leaf's private key (mode 0600)
};

// Creates a fresh CA and server certificate in `dir` (created if missing), valid for a day.
// Throws std::runtime_error with OpenSSL's reason on failure.
TlsMaterial make_tls_material(const std::string& dir);

class TlsFront {
 public:
  TlsFront(int upstream_port, const TlsMaterial& tls);
  ~TlsFront();
  TlsFront(const TlsFront&) = delete;
  TlsFront& operator=(const TlsFront&) = delete;

  int start();  // listens on 127.0.0.1:0; returns the port
  void stop();
  std::string base_url() const;  // https://127.0.0.1:PORT

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace txlab
