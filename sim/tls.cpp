// Per-run CA and server certificate (OpenSSL 3), and the Boost.Asio TLS front.
#include "sim/tls.h"
#include <fcntl.h>
#include <unistd.h>

#include "sim/asio_loopback.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <functional>
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

Cert make_cert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key,
               long serial, bool ca) {
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
    add_ext(c.get(), signer, NID_ext_key_usage, "serverAuth");
    add_ext(c.get(), signer, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
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

}  // namespace

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
