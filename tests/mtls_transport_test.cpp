// Mutual TLS under the roles, over real sockets: the per-run CA's role certificates, the server
// learning the client certificate from the TLS session only, the client verifying the server's
// chain and name, and the RFC 8705 §3.1 thumbprint.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "sim/http/client_pool.h"
#include "sim/http/server.h"
#include "sim/jose/base64url.h"
#include "sim/tls.h"

namespace txlab {
namespace {

struct Echo {
  http::LoopbackServer server;
  Echo(const TlsAuthority& ca, const TlsIdentity& id) {
    server.routes().get("/who", [](const http::Request& req, http::Response& res) {
      const auto facts = inspect_certificate(req.client_cert_der);
      res.set_content(std::string(req.tls ? "tls " : "plain ") +
                          (req.client_cert_der.empty() ? "-" : facts.subject_dn) +
                          (req.client_cert_verified ? " verified " : " unverified ") +
                          facts.x5t_s256,
                      "text/plain");
    });
    server.set_tls({id.cert_pem, id.key_pem, ca.ca_pem()});
    server.start();
  }
};

http::InboundResponse who(http::HttpClientPool& pool, const std::string& url) {
  http::OutboundRequest r;
  r.path = "/who";
  r.headers.emplace_back("X-Client-Cert", "forged");  // a header is never a certificate
  return pool.send(url, r);
}

TEST(MtlsTransportTest, Rfc8705Section3_1ServerLearnsTheClientCertificateAndItsThumbprint) {
  TlsAuthority ca;
  const auto server_id = ca.issue("as-c");
  const auto client_id = ca.issue("gw-c2p");
  Echo echo(ca, server_id);
  EXPECT_EQ(echo.server.base_url().rfind("https://127.0.0.1:", 0), 0u);
  http::HttpClientPool pool;
  pool.set_tls({ca.ca_pem(), client_id.cert_pem, client_id.key_pem});
  for (int i = 0; i < 3; ++i) {  // the second and third reuse the connection
    auto r = who(pool, echo.server.base_url());
    ASSERT_EQ(r.status, 200) << http::to_string(r.error);
    EXPECT_EQ(r.body, "tls CN=gw-c2p,O=txlab verified " + client_id.x5t_s256);
  }
  // The thumbprint is base64url(SHA-256(DER)) of the certificate, 43 characters.
  EXPECT_EQ(client_id.x5t_s256.size(), 43u);
  EXPECT_EQ(inspect_certificate(certificate_der(client_id.cert_pem)).x5t_s256, client_id.x5t_s256);
  EXPECT_NE(client_id.x5t_s256, server_id.x5t_s256);
}

TEST(MtlsTransportTest, ClientWithoutCertificateIsServedAndSeenWithout) {
  TlsAuthority ca;
  Echo echo(ca, ca.issue("as-c"));
  http::HttpClientPool pool;
  pool.set_tls({ca.ca_pem(), "", ""});
  auto r = who(pool, echo.server.base_url());
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.rfind("tls - unverified", 0), 0u) << r.body;
}

TEST(MtlsTransportTest, Rfc8705Section2_2SelfSignedAndForeignCertificatesArriveUnverified) {
  TlsAuthority ca, other;
  Echo echo(ca, ca.issue("as-c"));
  const auto self = make_self_signed_identity("cfa");
  http::HttpClientPool pool;
  pool.set_tls({ca.ca_pem(), self.cert_pem, self.key_pem});
  auto r = who(pool, echo.server.base_url());
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "tls CN=cfa,O=txlab unverified " + self.x5t_s256);
  const auto foreign = other.issue("gw-c2p");
  http::HttpClientPool pool2;
  pool2.set_tls({ca.ca_pem(), foreign.cert_pem, foreign.key_pem});
  r = who(pool2, echo.server.base_url());
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "tls CN=gw-c2p,O=txlab unverified " + foreign.x5t_s256);
  std::string why;
  EXPECT_FALSE(verify_client_certificate(certificate_der(foreign.cert_pem), ca.ca_pem(), &why));
  EXPECT_FALSE(why.empty());
  EXPECT_TRUE(verify_client_certificate(certificate_der(ca.issue("x").cert_pem), ca.ca_pem()));
}

TEST(MtlsTransportTest, ClientRefusesAServerOfAnotherCaOrForAnotherName) {
  TlsAuthority ca, other;
  Echo impostor(other, other.issue("as-c"));
  http::HttpClientPool pool;
  pool.set_tls({ca.ca_pem(), "", ""});
  auto r = who(pool, impostor.server.base_url());
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error, http::TransportError::kTls);
  // A certificate of the right CA that does not name the host the client asked for.
  Echo echo(ca, ca.issue("as-c"));
  const std::string by_name = "https://as-c.invalid:" + std::to_string(echo.server.port());
  EXPECT_EQ(who(pool, by_name).status, 0);
  // The same server by the name it holds works.
  const std::string by_ip = echo.server.base_url();
  EXPECT_EQ(who(pool, by_ip).status, 200);
}

TEST(MtlsTransportTest, PlainHttpToATlsServerGetsNoAnswerAndIsCounted) {
  TlsAuthority ca;
  Echo echo(ca, ca.issue("as-c"));
  http::HttpClientPool pool;
  const std::string plain = "http://127.0.0.1:" + std::to_string(echo.server.port());
  auto r = who(pool, plain);
  EXPECT_EQ(r.status, 0);
  for (int i = 0; i < 50 && echo.server.stats().tls_failed == 0; ++i) ::usleep(10000);
  EXPECT_GE(echo.server.stats().tls_failed, 1u);
}

TEST(MtlsTransportTest, SilentTlsClientIsDroppedAtTheHeaderDeadline) {
  TlsAuthority ca;
  http::ServerOptions o;
  o.header_timeout_ms = 300;
  http::LoopbackServer server(o);
  server.routes().get("/", [](const http::Request&, http::Response& res) { res.body = "x"; });
  const auto id = ca.issue("as-c");
  server.set_tls({id.cert_pem, id.key_pem, ca.ca_pem()});
  server.start();
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(server.port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  timeval tv{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char c;
  EXPECT_EQ(::recv(fd, &c, 1, 0), 0);  // closed by the server, not left open
  ::close(fd);
  EXPECT_EQ(server.stats().tls_failed, 1u);
}

// A server whose TLS stack demands a client certificate (as Keycloak's https-client-auth does for
// an untrusted chain): it ends the session with an alert, which the client reports as a TLS
// refusal (kTls), not as a read failure or a timeout (RFC 8705 §2.1 cases grade by it).
TEST(MtlsTransportTest, Rfc8705Section2_1AServersTlsAlertIsATlsRefusal) {
  TlsAuthority ca;
  const auto server_id = ca.issue("as-c");
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  auto pem = [](const std::string& text) { return BIO_new_mem_buf(text.data(), int(text.size())); };
  BIO* cb = pem(server_id.cert_pem);
  BIO* kb = pem(server_id.key_pem);
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  ASSERT_TRUE(cert && key);
  SSL_CTX_use_certificate(ctx, cert);
  SSL_CTX_use_PrivateKey(ctx, key);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::thread server([&] {
    const int fd = accept(listener, nullptr, nullptr);
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    EXPECT_NE(SSL_accept(ssl), 1);  // no client certificate: the handshake fails with an alert
    // As a TLS stack that closes cleanly does: no more writes, what the client sent is read
    // (closing with it unread would reset the connection and lose the alert).
    shutdown(fd, SHUT_WR);
    timeval tv{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char drain[4096];
    while (recv(fd, drain, sizeof drain, 0) > 0) {
    }
    SSL_free(ssl);
    close(fd);
  });
  http::HttpClientPool pool;
  pool.set_tls({ca.ca_pem(), "", ""});
  http::OutboundRequest r;
  r.path = "/";
  const auto res = pool.send("https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)), r);
  server.join();
  EXPECT_EQ(res.status, 0);
  EXPECT_EQ(res.error, http::TransportError::kTls) << http::to_string(res.error);
  close(listener);
  X509_free(cert);
  EVP_PKEY_free(key);
  BIO_free(cb);
  BIO_free(kb);
  SSL_CTX_free(ctx);
}

TEST(MtlsTransportTest, InspectRefusesGarbage) {
  EXPECT_FALSE(inspect_certificate("not a certificate").parsed);
  EXPECT_FALSE(inspect_certificate("").parsed);
  EXPECT_FALSE(verify_client_certificate("", "x"));
}

}  // namespace
}  // namespace txlab
