// Per-run CA and server certificate (OpenSSL 3), and the Boost.Asio TLS front.
#include "sim/tls.h"
#include <fcntl.h>
#include <unistd.h>

#include "sim/asio_loopback.h"
#include "sim/jose/base64url.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <sys/stat.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace txlab {

namespace {

[[noreturn]] void fail(const std::string& what) {
  char buf[256] = {0};
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  throw std::runtime_error("TLS material: " + what + (buf[0] ? std::string(": ") + buf : ""));
}

using Pkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

Pkey p256() {
  Pkey k(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!k) fail("key generation");
  return k;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext || !X509_add_ext(cert, ext, -1)) fail("extension " + std::string(value));
  X509_EXTENSION_free(ext);
}

// `sans` empty: the front's server certificate (127.0.0.1, localhost, serverAuth only).
// Otherwise a role identity usable on both ends of TLS.
Cert make_cert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key,
               long serial, bool ca, const std::string& sans = {}) {
  Cert c(X509_new(), X509_free);
  if (!c) fail("X509_new");
  X509_set_version(c.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(c.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(c.get()), 24 * 3600);
  X509_set_pubkey(c.get(), key);
  X509_NAME* name = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("txlab"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(c.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509* signer = issuer ? issuer : c.get();
  if (ca) {
    add_ext(c.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(c.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(c.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(c.get(), signer, NID_key_usage, "critical,digitalSignature");
    add_ext(c.get(), signer, NID_ext_key_usage,
            sans.empty() ? "serverAuth" : "serverAuth,clientAuth");
    add_ext(c.get(), signer, NID_subject_alt_name,
            sans.empty() ? "IP:127.0.0.1,DNS:localhost" : sans.c_str());
  }
  add_ext(c.get(), signer, NID_subject_key_identifier, "hash");
  if (!X509_sign(c.get(), issuer_key ? issuer_key : key, EVP_sha256())) fail("signing " + cn);
  return c;
}

void write_pem(const std::string& path, const std::function<int(FILE*)>& write, bool secret) {
  // Never through a symbolic link (O_NOFOLLOW), and a key is 0600 from its creation on.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                        secret ? 0600 : 0644);
  if (fd < 0)
    throw std::runtime_error("TLS material: cannot write " + path +
                             " (a symbolic link is refused)");
  if (secret) ::fchmod(fd, 0600);
  FILE* f = ::fdopen(fd, "w");
  if (!f) {
    ::close(fd);
    throw std::runtime_error("TLS material: cannot write " + path);
  }
  const int ok = write(f);
  std::fclose(f);
  if (!ok) fail("writing " + path);
}

std::string pem_of(X509* cert) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || !PEM_write_bio_X509(bio.get(), cert)) fail("PEM");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string pem_of(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || !PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr))
    fail("PEM");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string der_of(X509* cert) {
  unsigned char* out = nullptr;
  const int n = i2d_X509(cert, &out);
  if (n <= 0) fail("DER");
  std::string der(reinterpret_cast<char*>(out), static_cast<size_t>(n));
  OPENSSL_free(out);
  return der;
}

Cert cert_from_der(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return Cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())), X509_free);
}

Cert cert_from_pem(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  return Cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr, X509_free);
}

std::string subject_dn_of(X509* cert) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio) return {};
  // RFC 4514 order and escaping, without spaces after the commas.
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0,
                     XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

TlsIdentity identity_of(const std::string& name, X509* cert, EVP_PKEY* key) {
  TlsIdentity id;
  id.name = name;
  id.cert_pem = pem_of(cert);
  id.key_pem = pem_of(key);
  const auto facts = inspect_certificate(der_of(cert));
  id.x5t_s256 = facts.x5t_s256;
  id.subject_dn = facts.subject_dn;
  return id;
}

bool dns_safe(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
  return true;
}

}  // namespace

void write_mutual_tls(const std::string& dir, const MutualTls& m) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
    throw std::runtime_error("TLS material: " + dir + " is a symbolic link (refused)");
  std::filesystem::create_directories(dir);
  auto put = [](const std::string& path, const std::string& text, bool secret) {
    write_pem(
        path, [&](FILE* f) { return std::fwrite(text.data(), 1, text.size(), f) == text.size(); },
        secret);
  };
  put(dir + "/ca.pem", m.ca_pem, false);
  for (const auto& [role, id] : m.issued) {
    put(dir + "/" + role + ".pem", id.cert_pem, false);
    put(dir + "/" + role + ".key", id.key_pem, true);
  }
  for (const auto& [role, id] : m.self_signed) {
    put(dir + "/" + role + ".self-signed.pem", id.cert_pem, false);
    put(dir + "/" + role + ".self-signed.key", id.key_pem, true);
  }
}

TlsMaterial make_tls_material(const std::string& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
    throw std::runtime_error("TLS material: " + dir + " is a symbolic link (refused)");
  std::filesystem::create_directories(dir);
  Pkey ca_key = p256(), leaf_key = p256();
  Cert ca = make_cert(ca_key.get(), "txlab per-run CA", nullptr, nullptr, 1, true);
  Cert leaf = make_cert(leaf_key.get(), "127.0.0.1", ca.get(), ca_key.get(), 2, false);
  TlsMaterial m{dir + "/ca.pem", dir + "/server.pem", dir + "/server.key"};
  write_pem(
      m.ca_cert_path, [&](FILE* f) { return PEM_write_X509(f, ca.get()); }, false);
  write_pem(
      m.server_cert_path, [&](FILE* f) { return PEM_write_X509(f, leaf.get()); }, false);
  write_pem(
      m.server_key_path,
      [&](FILE* f) {
        return PEM_write_PrivateKey(f, leaf_key.get(), nullptr, nullptr, 0, nullptr, nullptr);
      },
      true);
  return m;
}

struct TlsAuthority::Impl {
  Pkey key{nullptr, EVP_PKEY_free};
  Cert cert{nullptr, X509_free};
  std::mutex mu;
  long serial = 1;
};

TlsAuthority::TlsAuthority() : impl_(std::make_unique<Impl>()) {
  impl_->key = p256();
  impl_->cert = make_cert(impl_->key.get(), "txlab per-run CA", nullptr, nullptr, 1, true);
  ca_pem_ = pem_of(impl_->cert.get());
}

TlsAuthority::~TlsAuthority() = default;

TlsIdentity TlsAuthority::issue(const std::string& name,
                                const std::vector<std::string>& extra_ips) {
  std::string sans = "IP:127.0.0.1,DNS:localhost";
  if (dns_safe(name)) sans += ",DNS:" + name;
  for (const auto& ip : extra_ips) sans += ",IP:" + ip;
  Pkey key = p256();
  long serial = 0;
  {
    std::lock_guard lock(impl_->mu);
    serial = ++impl_->serial;
  }
  Cert leaf = make_cert(key.get(), name, impl_->cert.get(), impl_->key.get(), serial, false, sans);
  return identity_of(name, leaf.get(), key.get());
}

TlsIdentity make_self_signed_identity(const std::string& name) {
  Pkey key = p256();
  std::string sans = "IP:127.0.0.1";
  if (dns_safe(name)) sans += ",DNS:" + name;
  Cert c = make_cert(key.get(), name, nullptr, nullptr, 1, false, sans);
  return identity_of(name, c.get(), key.get());
}

CertificateFacts inspect_certificate(std::string_view der) {
  CertificateFacts f;
  Cert cert = cert_from_der(der);
  if (!cert) return f;
  f.parsed = true;
  unsigned char md[32];
  SHA256(reinterpret_cast<const unsigned char*>(der.data()), der.size(), md);
  f.x5t_s256 = jose::base64url_encode(std::string_view(reinterpret_cast<char*>(md), sizeof md));
  f.subject_dn = subject_dn_of(cert.get());
  unsigned char* spki = nullptr;
  const int spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), &spki);
  if (spki_len > 0) {
    SHA256(spki, static_cast<size_t>(spki_len), md);
    f.spki_s256 = jose::base64url_encode(std::string_view(reinterpret_cast<char*>(md), sizeof md));
    OPENSSL_free(spki);
  }
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  if (names) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
      auto text = [](const ASN1_STRING* s) {
        return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                           static_cast<size_t>(ASN1_STRING_length(s)));
      };
      if (g->type == GEN_DNS) f.san_dns.push_back(text(g->d.dNSName));
      if (g->type == GEN_URI) f.san_uri.push_back(text(g->d.uniformResourceIdentifier));
      if (g->type == GEN_IPADD) {
        const std::string raw = text(g->d.iPAddress);
        char buf[64] = {0};
        if (raw.size() == 4 && inet_ntop(AF_INET, raw.data(), buf, sizeof buf))
          f.san_ip.emplace_back(buf);
        else if (raw.size() == 16 && inet_ntop(AF_INET6, raw.data(), buf, sizeof buf))
          f.san_ip.emplace_back(buf);
      }
    }
    GENERAL_NAMES_free(names);
  }
  return f;
}

bool verify_client_certificate(std::string_view der, const std::string& ca_pem, std::string* why) {
  auto say = [&](std::string w) {
    if (why) *why = std::move(w);
    return false;
  };
  Cert cert = cert_from_der(der);
  if (!cert) return say("not a certificate");
  Cert ca = cert_from_pem(ca_pem);
  if (!ca) return say("no CA certificate");
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      X509_STORE_CTX_free);
  if (!store || !ctx || !X509_STORE_add_cert(store.get(), ca.get()) ||
      !X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr))
    return say("verifier setup failed");
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  if (X509_verify_cert(ctx.get()) != 1)
    return say(X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
  return true;
}

std::string certificate_der(const std::string& pem) {
  Cert c = cert_from_pem(pem);
  return c ? der_of(c.get()) : std::string();
}

namespace asio = boost::asio;
using asio::ip::tcp;

struct TlsFront::Impl : detail::AsioLoopback {
  int upstream_port;
  asio::ssl::context ssl{asio::ssl::context::tls_server};

  struct Session : std::enable_shared_from_this<Session> {
    asio::ssl::stream<tcp::socket> client;
    tcp::socket upstream;
    std::array<char, 16384> down_buf{}, up_buf{};
    Session(tcp::socket s, asio::ssl::context& ctx, asio::io_context& io)
        : client(std::move(s), ctx), upstream(io) {}

    void close() {
      boost::system::error_code ec;
      client.lowest_layer().close(ec);
      upstream.close(ec);
    }
    void start(int port) {
      client.async_handshake(asio::ssl::stream_base::server, [self = shared_from_this(),
                                                              port](boost::system::error_code ec) {
        if (ec) return self->close();
        self->upstream.async_connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)),
            [self](boost::system::error_code ec2) {
              if (ec2) return self->close();
              boost::system::error_code ignored;
              self->upstream.set_option(tcp::no_delay(true), ignored);
              self->client.lowest_layer().set_option(tcp::no_delay(true), ignored);
              self->client_to_upstream();
              self->upstream_to_client();
            });
      });
    }
    void client_to_upstream() {
      client.async_read_some(asio::buffer(up_buf), [self = shared_from_this()](
                                                       boost::system::error_code ec, size_t n) {
        if (ec) return self->close();
        asio::async_write(self->upstream, asio::buffer(self->up_buf.data(), n),
                          [self](boost::system::error_code ec2, size_t) {
                            if (ec2) return self->close();
                            self->client_to_upstream();
                          });
      });
    }
    void upstream_to_client() {
      upstream.async_read_some(asio::buffer(down_buf), [self = shared_from_this()](
                                                           boost::system::error_code ec, size_t n) {
        if (ec) return self->close();
        asio::async_write(self->client, asio::buffer(self->down_buf.data(), n),
                          [self](boost::system::error_code ec2, size_t) {
                            if (ec2) return self->close();
                            self->upstream_to_client();
                          });
      });
    }
  };

  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket s) {
      if (ec) return;
      std::make_shared<Session>(std::move(s), ssl, io)->start(upstream_port);
      accept();
    });
  }
};

TlsFront::TlsFront(int upstream_port, const TlsMaterial& tls) : impl_(std::make_unique<Impl>()) {
  impl_->upstream_port = upstream_port;
  auto& ssl = impl_->ssl;
  ssl.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                  asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                  asio::ssl::context::no_tlsv1_1);
  ssl.use_certificate_chain_file(tls.server_cert_path);
  ssl.use_private_key_file(tls.server_key_path, asio::ssl::context::pem);
}

TlsFront::~TlsFront() { stop(); }

int TlsFront::start() {
  auto& i = *impl_;
  i.listen();
  i.accept();
  i.run();
  return i.port;
}

void TlsFront::stop() {
  if (impl_) impl_->shutdown();
}

std::string TlsFront::base_url() const {
  return "https://127.0.0.1:" + std::to_string(impl_->port);
}

}  // namespace txlab
