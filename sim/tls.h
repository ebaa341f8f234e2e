// TLS for roles that must be reached over https (peers such as Apache mod_auth_openidc only
// fetch JWKS over https): a per-run certificate authority and a server certificate for
// 127.0.0.1 / localhost (OpenSSL 3, EC P-256), and a TLS front (Boost.Asio) that terminates
// TLS on its own loopback port and forwards the plaintext to a role's port.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace txlab {

struct TlsMaterial {
  std::string ca_cert_path;      // PEM: trust this to verify the servers
  std::string server_cert_path;  // PEM: leaf (SAN IP:127.0.0.1, DNS:localhost), signed by the CA
  std::string server_key_path;   // PEM: the leaf's private key (mode 0600)
};

// Creates a fresh CA and server certificate in `dir` (created if missing), valid for a day.
// Throws std::runtime_error with OpenSSL's reason on failure.
TlsMaterial make_tls_material(const std::string& dir);

// A certificate and its private key, PEM in memory (role identities for mutual TLS).
struct TlsIdentity {
  std::string name;        // the role (or client) it was made for
  std::string cert_pem;    // the leaf
  std::string key_pem;     // its private key
  std::string x5t_s256;    // RFC 8705 §3.1: base64url(SHA-256(DER of the certificate))
  std::string subject_dn;  // RFC 4514 string, e.g. "CN=gw-c2p,O=txlab"
};

// A per-run certificate authority held in memory: EC P-256, valid for a day. It issues one
// certificate per role, usable for both ends of TLS (serverAuth and clientAuth), whose subject
// is CN=<role>,O=txlab and whose subjectAltName names 127.0.0.1, localhost, the role as a DNS
// name and any extra addresses given (a role's address under --netns).
class TlsAuthority {
 public:
  TlsAuthority();  // a fresh CA; throws std::runtime_error with OpenSSL's reason on failure
  ~TlsAuthority();
  TlsAuthority(const TlsAuthority&) = delete;
  TlsAuthority& operator=(const TlsAuthority&) = delete;
  const std::string& ca_pem() const { return ca_pem_; }
  TlsIdentity issue(const std::string& name, const std::vector<std::string>& extra_ips = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string ca_pem_;
};

// The mutual TLS of one run (scenario `tls: mutual`): the CA and every role's certificates.
struct MutualTls {
  std::string ca_pem;
  std::map<std::string, TlsIdentity> issued;  // role -> CA-issued: serves and calls with it
  std::map<std::string, TlsIdentity>
      self_signed;  // role -> self-signed (RFC 8705 §2.2) it calls with
  // The certificate `role` presents when it calls (its self-signed one when it has one); null
  // for a role without any.
  const TlsIdentity* client_identity(const std::string& role) const {
    if (auto it = self_signed.find(role); it != self_signed.end()) return &it->second;
    if (auto it = issued.find(role); it != issued.end()) return &it->second;
    return nullptr;
  }
};

// Writes the run's CA (ca.pem) and every role's certificate and key (ROLE.pem, ROLE.key mode
// 0600; ROLE.self-signed.pem/.key for self-signed ones) into `dir`, so that tools outside txlab
// (curl --cacert/--cert/--key) can talk to the roles. Throws std::runtime_error.
void write_mutual_tls(const std::string& dir, const MutualTls& m);

// A self-signed certificate (RFC 8705 §2.2 self_signed_tls_client_auth), CN=<name>.
TlsIdentity make_self_signed_identity(const std::string& name);

// What a peer certificate (DER) says, for RFC 8705 checks. Pure: no I/O.
struct CertificateFacts {
  bool parsed = false;
  std::string x5t_s256;
  std::string spki_s256;             // base64url(SHA-256(DER of the SubjectPublicKeyInfo))
  std::string subject_dn;            // RFC 4514, most significant RDN last ("CN=a,O=txlab")
  std::vector<std::string> san_dns;  // subjectAltName dNSName entries
  std::vector<std::string> san_uri;  // uniformResourceIdentifier entries
  std::vector<std::string> san_ip;   // iPAddress entries, textual
};
CertificateFacts inspect_certificate(std::string_view der);
// True when `der` chains to the CA certificate `ca_pem` and is valid now for TLS client use.
bool verify_client_certificate(std::string_view der, const std::string& ca_pem,
                               std::string* why = nullptr);
// PEM → DER of the first certificate ("" when none).
std::string certificate_der(const std::string& pem);

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
